// Topology::parse, node-per-line format: "node 0: 0-1 smt 4-5 on 0-3" (see topology.hpp).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cpu_list.hpp"
#include "text_util.hpp"
#include "topology_text.hpp"
#include "zap/zuma/topology_builder.hpp"

namespace zap::zuma::detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// One statement: a line, or one part of a line split by ';' (so that a whole description fits
// on one line of a JSON string or an environment variable). Comments are already cut off.
struct Statement {
  std::string_view text;
  std::size_t offset = 0;  // of `text` in the whole description
  std::size_t line = 1;    // 1-based line number, for messages

  ParseError error(std::size_t position, const std::string& message) const {
    return ParseError{"line " + std::to_string(line) + ": " + message, position};
  }
};

// Walks a statement word by word; a word is a run of non-blank characters.
class WordReader {
 public:
  explicit WordReader(Statement statement) : statement_(statement) {}

  // Offset in the whole description of the next word, or of the end of the statement.
  std::size_t position() {
    skip_blanks();
    return statement_.offset + pos_;
  }
  bool at_end() {
    skip_blanks();
    return pos_ >= statement_.text.size();
  }
  std::string_view next_word() {
    skip_blanks();
    const std::size_t start = pos_;
    while (pos_ < statement_.text.size() && !is_blank(statement_.text[pos_])) ++pos_;
    return statement_.text.substr(start, pos_ - start);
  }
  // The node header: a number then ':' (blanks allowed around both, "node 1:" or "node 1 :").
  std::optional<ParseError> read_node_id(unsigned& id) {
    skip_blanks();
    unsigned long long value = 0;
    if (auto error =
            scan_number(statement_.text, pos_, CpuSet::kMaxCpus - 1, statement_.offset, value)) {
      return statement_.error(error->position, "node: " + error->message + " (the node id)");
    }
    skip_blanks();
    if (pos_ >= statement_.text.size() || statement_.text[pos_] != ':') {
      return statement_.error(statement_.offset + pos_,
                              "expected ':' after 'node " + std::to_string(value) + "'");
    }
    ++pos_;
    id = static_cast<unsigned>(value);
    return std::nullopt;
  }

 private:
  void skip_blanks() {
    while (pos_ < statement_.text.size() && is_blank(statement_.text[pos_])) ++pos_;
  }

  Statement statement_;
  std::size_t pos_ = 0;
};

// Splits the description into statements, dropping comments, blank lines and empty statements.
std::vector<Statement> split_statements(std::string_view text) {
  std::vector<Statement> statements;
  std::size_t line = 1;
  std::size_t start = 0;
  for (std::size_t pos = 0; pos <= text.size(); ++pos) {
    const bool at_end = pos == text.size();
    if (!at_end && text[pos] != '\n' && text[pos] != ';' && text[pos] != '#') continue;
    const std::string_view part = text.substr(start, pos - start);
    if (!trim(part).empty()) statements.push_back(Statement{part, start, line});
    if (!at_end && text[pos] == '#') {
      while (pos < text.size() && text[pos] != '\n') ++pos;
    }
    if (pos < text.size() && text[pos] == '\n') ++line;
    start = pos + 1;
  }
  return statements;
}

// A CPU list word, its CPUs in the order written. `label` ("node 0: smt") starts messages.
std::optional<ParseError> read_cpu_list(const Statement& statement, WordReader& words,
                                        const std::string& label, std::vector<unsigned>& out) {
  const std::size_t at = words.position();
  const std::string_view word = words.next_word();
  if (word.empty()) {
    return statement.error(at, label + ": expected a CPU list such as 0-3,8-11, found end of line");
  }
  if (auto error = parse_cpu_sequence(word, at, out)) {
    return statement.error(error->position, label + ": " + error->message);
  }
  return std::nullopt;
}

struct NodeSpec {
  unsigned id = 0;
  std::size_t line = 0;
  std::vector<unsigned> cpus;                   // first thread of each core, one core per CPU
  std::vector<std::vector<unsigned>> siblings;  // each "smt" list, as long as `cpus`
  std::vector<unsigned> real;                   // "on" list; empty: identity
  std::size_t cpus_position = 0;                // offsets of the lists, for messages
  std::vector<std::size_t> siblings_positions;
  std::size_t real_position = 0;
};

std::optional<ParseError> parse_node(const Statement& statement, WordReader& words,
                                     NodeSpec& node) {
  if (auto error = words.read_node_id(node.id)) return error;
  node.line = statement.line;
  const std::string prefix = "node " + std::to_string(node.id);
  if (words.at_end()) {
    return statement.error(words.position(),
                           prefix + ": expected a CPU list (e.g. 0-3,8-11) or 'none'");
  }
  {
    WordReader peek = words;
    if (peek.next_word() == "none") {
      words.next_word();
      if (!words.at_end()) {
        return statement.error(words.position(),
                               prefix + ": nothing may follow 'none' (a node without CPUs)");
      }
      return std::nullopt;
    }
  }
  node.cpus_position = words.position();
  if (auto error = read_cpu_list(statement, words, prefix, node.cpus)) {
    return error;
  }
  while (!words.at_end()) {
    const std::size_t at = words.position();
    const std::string_view keyword = words.next_word();
    if (keyword == "smt") {
      if (!node.real.empty()) {
        return statement.error(at, prefix + ": 'smt' must come before 'on'");
      }
      std::vector<unsigned> siblings;
      node.siblings_positions.push_back(words.position());
      if (auto error = read_cpu_list(statement, words, prefix + ": smt", siblings)) {
        return error;
      }
      if (siblings.size() != node.cpus.size()) {
        return statement.error(at, prefix + ": smt list names " + std::to_string(siblings.size()) +
                                       " CPUs, expected " + std::to_string(node.cpus.size()) +
                                       " (one sibling for each CPU of the node's list)");
      }
      node.siblings.push_back(std::move(siblings));
    } else if (keyword == "on") {
      if (!node.real.empty()) return statement.error(at, prefix + ": 'on' given twice");
      node.real_position = words.position();
      if (auto error = read_cpu_list(statement, words, prefix + ": on", node.real)) {
        return error;
      }
    } else {
      return statement.error(at, prefix +
                                     ": expected 'smt <cpu list>', 'on <cpu list>' or end "
                                     "of line, found '" +
                                     std::string(keyword) + "'");
    }
  }
  return std::nullopt;
}

std::optional<ParseError> parse_cache(const Statement& statement, WordReader& words,
                                      CacheInfo& caches) {
  bool seen[4] = {};
  constexpr std::string_view kNames[4] = {"line", "l1d", "l2", "l3"};
  std::size_t* const targets[4] = {&caches.line_size, &caches.l1d_size, &caches.l2_size,
                                   &caches.l3_size};
  if (words.at_end()) {
    return statement.error(words.position(), "cache: expected line=, l1d=, l2= or l3=");
  }
  while (!words.at_end()) {
    const std::size_t at = words.position();
    const std::string_view word = words.next_word();
    const std::size_t equals = word.find('=');
    std::size_t index = 0;
    while (index < 4 && kNames[index] != word.substr(0, equals)) ++index;
    if (equals == std::string_view::npos || index == 4) {
      return statement.error(
          at, "cache: expected line=, l1d=, l2= or l3=, found '" + std::string(word) + "'");
    }
    if (seen[index]) {
      return statement.error(at, "cache: '" + std::string(kNames[index]) + "' given twice");
    }
    seen[index] = true;
    const auto size = parse_size(word.substr(equals + 1));
    if (!size || (index == 0 && *size == 0)) {
      return statement.error(at + equals + 1, "cache: " + std::string(kNames[index]) +
                                                  ": expected a size such as 64, 32K, 2M or 1G" +
                                                  (index == 0 ? " (above 0)" : ""));
    }
    *targets[index] = *size;
  }
  return std::nullopt;
}

}  // namespace

bool is_node_list(std::string_view text) noexcept {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '#') {
      while (pos < text.size() && text[pos] != '\n') ++pos;
    } else if (is_blank(text[pos]) || text[pos] == '\n' || text[pos] == ';') {
      ++pos;
    } else {
      break;
    }
  }
  const std::string_view rest = text.substr(pos);
  return rest.starts_with("node") && (rest.size() == 4 || !(is_letter(rest[4]) || rest[4] == '='));
}

Result<Topology, ParseError> parse_node_list(std::string_view text) {
  std::vector<NodeSpec> nodes;
  std::optional<std::size_t> cache_line;
  CacheInfo caches;
  for (const Statement& statement : split_statements(text)) {
    const std::string_view body = trim(statement.text);
    const std::size_t at =
        statement.offset + static_cast<std::size_t>(body.data() - statement.text.data());
    // The keyword is the leading letters, so that "node1: 0" reads like "node 1: 0".
    std::size_t letters = 0;
    while (letters < body.size() && is_letter(body[letters])) ++letters;
    const std::string_view keyword = body.substr(0, letters);
    const Statement tail{body.substr(letters), at + letters, statement.line};
    WordReader words(tail);
    if (keyword == "node") {
      NodeSpec node;
      if (auto error = parse_node(tail, words, node)) return *std::move(error);
      for (const NodeSpec& other : nodes) {
        if (other.id == node.id) {
          return statement.error(at, "node " + std::to_string(node.id) +
                                         " is already described on line " +
                                         std::to_string(other.line));
        }
      }
      nodes.push_back(std::move(node));
    } else if (keyword == "cache") {
      if (cache_line) {
        return statement.error(at, "cache: already given on line " + std::to_string(*cache_line));
      }
      cache_line = statement.line;
      if (auto error = parse_cache(tail, words, caches)) return *std::move(error);
    } else {
      const std::string_view word =
          body.substr(0, std::min(body.find_first_of(" \t"), body.size()));
      return statement.error(
          at, "expected 'node <id>: <cpu list>' or 'cache ...', found '" + std::string(word) + "'");
    }
  }

  // Each logical CPU belongs to one core of one node; a repeat is reported at the list naming it.
  std::vector<const NodeSpec*> owner(CpuSet::kMaxCpus, nullptr);
  bool any_cpu = false;
  for (const NodeSpec& node : nodes) {
    auto claim = [&](const std::vector<unsigned>& cpus,
                     std::size_t position) -> std::optional<ParseError> {
      for (unsigned cpu : cpus) {
        if (owner[cpu] != nullptr) {
          const std::string where = owner[cpu] == &node
                                        ? "named twice in node " + std::to_string(node.id)
                                        : "already in node " + std::to_string(owner[cpu]->id) +
                                              " (line " + std::to_string(owner[cpu]->line) + ")";
          return ParseError{"line " + std::to_string(node.line) + ": node " +
                                std::to_string(node.id) + ": CPU " + std::to_string(cpu) + " is " +
                                where,
                            position};
        }
        owner[cpu] = &node;
        any_cpu = true;
      }
      return std::nullopt;
    };
    if (auto error = claim(node.cpus, node.cpus_position)) return *std::move(error);
    for (std::size_t i = 0; i < node.siblings.size(); ++i) {
      if (auto error = claim(node.siblings[i], node.siblings_positions[i])) {
        return *std::move(error);
      }
    }
  }
  if (!any_cpu) {
    return ParseError{"no node has a CPU (expected a line such as 'node 0: 0-3')", text.size()};
  }

  TopologyBuilder builder;
  builder.set_source(TopologySource::kText).set_caches(caches);
  for (const NodeSpec& node : nodes) {
    if (node.cpus.empty()) builder.add_node(node.id);  // "node N: none"
    CpuSet all;
    for (std::size_t i = 0; i < node.cpus.size(); ++i) {
      CpuSet core{node.cpus[i]};
      for (const auto& siblings : node.siblings) core.add(siblings[i]);
      builder.add_core(node.id, core, /*package=*/node.id);
      all |= core;
    }
    if (node.real.empty()) continue;
    if (node.real.size() != all.count()) {
      return ParseError{"line " + std::to_string(node.line) + ": node " + std::to_string(node.id) +
                            ": on list names " + std::to_string(node.real.size()) +
                            " real CPUs, expected " + std::to_string(all.count()) +
                            " (one for each CPU of the node)",
                        node.real_position};
    }
    // The i-th real CPU serves the i-th logical CPU of the node in ascending order.
    std::size_t i = 0;
    for (unsigned cpu : all) builder.map_cpu(cpu, node.real[i++]);
  }
  auto topology = std::move(builder).build();
  // Cannot fail for a description that passed the checks above.
  if (!topology) return ParseError{"inconsistent topology: " + topology.error().message(), 0};
  return *std::move(topology);
}

}  // namespace zap::zuma::detail
