// Topology::parse: the "nodes=2 cores_per_node=2 cpus=0,1,0,1" text format (see topology.hpp),
// and the choice between it and the node-per-line format of topology_node_list.cpp.
#include <array>
#include <string>
#include <vector>

#include "cpu_list.hpp"
#include "text_util.hpp"
#include "topology_text.hpp"
#include "zap/zuma/topology.hpp"
#include "zap/zuma/topology_builder.hpp"

namespace zap::zuma {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

enum Key : std::size_t {
  kNodes,
  kCoresPerNode,
  kThreadsPerCore,
  kCpus,
  kLine,
  kL1d,
  kL2,
  kL3,
  kKeyCount
};
constexpr std::array<std::string_view, kKeyCount> kKeyNames = {
    "nodes", "cores_per_node", "threads_per_core", "cpus", "line", "l1d", "l2", "l3"};

struct Field {
  bool present = false;
  std::string_view value;
  std::size_t value_position = 0;  // offset of the value in the text
};

ParseError error_at(std::size_t position, std::string message) {
  return ParseError{std::move(message), position};
}

// A count field (nodes, cores_per_node, threads_per_core): 1 .. kMaxCpus.
std::optional<ParseError> read_count(const Field& field, std::string_view name, unsigned& out) {
  std::size_t pos = 0;
  unsigned long long value = 0;
  if (auto error =
          detail::scan_number(field.value, pos, CpuSet::kMaxCpus, field.value_position, value)) {
    error->message = std::string(name) + ": " + error->message;
    return error;
  }
  if (pos != field.value.size()) {
    return error_at(field.value_position + pos,
                    std::string(name) + ": unexpected '" + field.value[pos] + "' after the number");
  }
  if (value == 0) return error_at(field.value_position, std::string(name) + " must be at least 1");
  out = static_cast<unsigned>(value);
  return std::nullopt;
}

std::optional<ParseError> read_size(const Field& field, std::string_view name, std::size_t& out) {
  const auto size = detail::parse_size(field.value);
  if (!size) {
    return error_at(field.value_position,
                    std::string(name) + ": expected a size such as 64, 32K, 2M or 1G");
  }
  out = *size;
  return std::nullopt;
}

}  // namespace

Result<Topology, ParseError> Topology::parse(std::string_view text) {
  if (detail::is_node_list(text)) return detail::parse_node_list(text);
  std::array<Field, kKeyCount> fields{};
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() && (is_space(text[pos]) || text[pos] == '#')) {
      if (text[pos] == '#') {
        while (pos < text.size() && text[pos] != '\n') ++pos;
      } else {
        ++pos;
      }
    }
    if (pos >= text.size()) break;
    const std::size_t start = pos;
    while (pos < text.size() && !is_space(text[pos]) && text[pos] != '#') ++pos;
    const std::string_view pair = text.substr(start, pos - start);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return error_at(start, "expected key=value, found '" + std::string(pair) + "'");
    }
    const std::string_view key = pair.substr(0, equals);
    std::size_t index = 0;
    while (index < kKeyCount && kKeyNames[index] != key) ++index;
    if (index == kKeyCount) {
      return error_at(start, "unknown key '" + std::string(key) +
                                 "' (expected nodes, cores_per_node, threads_per_core, cpus, "
                                 "line, l1d, l2, l3)");
    }
    if (fields[index].present) return error_at(start, "duplicate key '" + std::string(key) + "'");
    if (equals + 1 == pair.size()) {
      return error_at(start + equals + 1, "missing value for '" + std::string(key) + "'");
    }
    fields[index] = Field{true, pair.substr(equals + 1), start + equals + 1};
  }

  if (!fields[kNodes].present) return error_at(text.size(), "missing required key 'nodes'");
  if (!fields[kCoresPerNode].present) {
    return error_at(text.size(), "missing required key 'cores_per_node'");
  }
  unsigned nodes = 0;
  unsigned cores_per_node = 0;
  unsigned threads_per_core = 1;
  if (auto error = read_count(fields[kNodes], "nodes", nodes)) return *std::move(error);
  if (auto error = read_count(fields[kCoresPerNode], "cores_per_node", cores_per_node)) {
    return *std::move(error);
  }
  if (fields[kThreadsPerCore].present) {
    if (auto error = read_count(fields[kThreadsPerCore], "threads_per_core", threads_per_core)) {
      return *std::move(error);
    }
  }
  const unsigned long long total =
      static_cast<unsigned long long>(nodes) * cores_per_node * threads_per_core;
  if (total > CpuSet::kMaxCpus) {
    return error_at(fields[kNodes].value_position,
                    "nodes*cores_per_node*threads_per_core = " + std::to_string(total) +
                        " CPUs, more than the maximum " + std::to_string(CpuSet::kMaxCpus));
  }

  std::vector<unsigned> os_cpus;
  if (fields[kCpus].present) {
    if (auto error = detail::parse_cpu_sequence(fields[kCpus].value, fields[kCpus].value_position,
                                                os_cpus)) {
      error->message = "cpus: " + error->message;
      return *std::move(error);
    }
    if (os_cpus.size() != total) {
      return error_at(fields[kCpus].value_position,
                      "cpus: lists " + std::to_string(os_cpus.size()) + " CPUs, expected " +
                          std::to_string(total) + " (nodes*cores_per_node*threads_per_core)");
    }
  }

  CacheInfo caches;
  if (fields[kLine].present) {
    if (auto error = read_size(fields[kLine], "line", caches.line_size)) return *std::move(error);
    if (caches.line_size == 0) return error_at(fields[kLine].value_position, "line must be > 0");
  }
  if (fields[kL1d].present) {
    if (auto error = read_size(fields[kL1d], "l1d", caches.l1d_size)) return *std::move(error);
  }
  if (fields[kL2].present) {
    if (auto error = read_size(fields[kL2], "l2", caches.l2_size)) return *std::move(error);
  }
  if (fields[kL3].present) {
    if (auto error = read_size(fields[kL3], "l3", caches.l3_size)) return *std::move(error);
  }

  TopologyBuilder builder;
  builder.set_source(TopologySource::kText).set_caches(caches);
  unsigned cpu = 0;
  for (unsigned node = 0; node < nodes; ++node) {
    for (unsigned core = 0; core < cores_per_node; ++core) {
      builder.add_core(node, CpuSet::range(cpu, cpu + threads_per_core - 1), /*package=*/node);
      cpu += threads_per_core;
    }
  }
  for (unsigned i = 0; i < os_cpus.size(); ++i) builder.map_cpu(i, os_cpus[i]);
  auto topology = std::move(builder).build();
  // Cannot fail for a description that passed the checks above.
  if (!topology) return error_at(0, "inconsistent topology: " + topology.error().message());
  return *std::move(topology);
}

}  // namespace zap::zuma
