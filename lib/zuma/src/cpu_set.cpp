#include "zap/zuma/cpu_set.hpp"

#include <bit>
#include <string>

#include "cpu_list.hpp"

namespace zap::zuma {
namespace detail {

std::optional<ParseError> scan_number(std::string_view text, std::size_t& pos,
                                      unsigned long long max, std::size_t base,
                                      unsigned long long& out) {
  const std::size_t start = pos;
  if (pos >= text.size()) return ParseError{"expected a number, found end of text", base + pos};
  if (text[pos] < '0' || text[pos] > '9') {
    return ParseError{std::string("expected a number, found '") + text[pos] + "'", base + pos};
  }
  unsigned long long value = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    value = value * 10 + static_cast<unsigned>(text[pos] - '0');
    if (value > max) {
      return ParseError{"number too large (maximum " + std::to_string(max) + ")", base + start};
    }
    ++pos;
  }
  out = value;
  return std::nullopt;
}

std::optional<ParseError> parse_cpu_sequence(std::string_view text, std::size_t base,
                                             std::vector<unsigned>& out) {
  constexpr unsigned long long kMaxCpu = CpuSet::kMaxCpus - 1;
  std::size_t pos = 0;
  while (true) {
    if (pos >= text.size() || text[pos] == ',') {
      return ParseError{pos >= text.size() && pos > 0 ? "trailing comma in CPU list"
                                                      : "empty element in CPU list",
                        base + pos};
    }
    const std::size_t element = pos;
    unsigned long long first = 0;
    if (auto error = scan_number(text, pos, kMaxCpu, base, first)) {
      if (error->message.starts_with("number too large")) {
        error->message = "CPU number too large (maximum " + std::to_string(kMaxCpu) + ")";
      }
      return error;
    }
    unsigned long long last = first;
    if (pos < text.size() && text[pos] == '-') {
      ++pos;
      if (pos >= text.size() || text[pos] == ',') {
        return ParseError{"range without an end", base + pos};
      }
      if (auto error = scan_number(text, pos, kMaxCpu, base, last)) {
        if (error->message.starts_with("number too large")) {
          error->message = "CPU number too large (maximum " + std::to_string(kMaxCpu) + ")";
        }
        return error;
      }
      if (last < first) {
        return ParseError{"reversed range " + std::to_string(first) + "-" + std::to_string(last),
                          base + element};
      }
    }
    for (unsigned long long cpu = first; cpu <= last; ++cpu)
      out.push_back(static_cast<unsigned>(cpu));
    if (pos >= text.size()) return std::nullopt;
    if (text[pos] != ',') {
      return ParseError{std::string("unexpected '") + text[pos] + "' in CPU list", base + pos};
    }
    ++pos;
  }
}

}  // namespace detail

CpuSet CpuSet::range(unsigned first, unsigned last) noexcept {
  CpuSet set;
  for (unsigned cpu = first; cpu <= last && cpu < kMaxCpus; ++cpu) set.add(cpu);
  return set;
}

Result<CpuSet, ParseError> CpuSet::parse(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  CpuSet set;
  if (begin == end) return set;
  std::vector<unsigned> cpus;
  if (auto error = detail::parse_cpu_sequence(text.substr(begin, end - begin), begin, cpus)) {
    return *std::move(error);
  }
  for (unsigned cpu : cpus) set.add(cpu);
  return set;
}

std::size_t CpuSet::count() const noexcept {
  std::size_t n = 0;
  for (std::uint64_t word : words_) n += static_cast<std::size_t>(std::popcount(word));
  return n;
}

bool CpuSet::empty() const noexcept {
  for (std::uint64_t word : words_) {
    if (word != 0) return false;
  }
  return true;
}

std::optional<unsigned> CpuSet::first() const noexcept {
  for (std::size_t i = 0; i < kWords; ++i) {
    if (words_[i] != 0) return static_cast<unsigned>(i * 64 + std::countr_zero(words_[i]));
  }
  return std::nullopt;
}

std::optional<unsigned> CpuSet::next_after(unsigned cpu) const noexcept {
  unsigned start = cpu + 1;
  if (cpu >= kMaxCpus - 1) return std::nullopt;
  std::size_t i = start / 64;
  std::uint64_t word = words_[i] & (~std::uint64_t{0} << (start % 64));
  while (true) {
    if (word != 0) return static_cast<unsigned>(i * 64 + std::countr_zero(word));
    if (++i == kWords) return std::nullopt;
    word = words_[i];
  }
}

std::optional<unsigned> CpuSet::nth(std::size_t n) const noexcept {
  for (unsigned cpu : *this) {
    if (n-- == 0) return cpu;
  }
  return std::nullopt;
}

std::string CpuSet::to_string() const {
  std::string text;
  auto cpu = first();
  while (cpu) {
    unsigned last = *cpu;
    while (last + 1 < kMaxCpus && contains(last + 1)) ++last;
    if (!text.empty()) text += ',';
    text += std::to_string(*cpu);
    if (last != *cpu) {
      text += '-';
      text += std::to_string(last);
    }
    cpu = next_after(last);
  }
  return text;
}

CpuSet& CpuSet::operator|=(const CpuSet& other) noexcept {
  for (std::size_t i = 0; i < kWords; ++i) words_[i] |= other.words_[i];
  return *this;
}

CpuSet& CpuSet::operator&=(const CpuSet& other) noexcept {
  for (std::size_t i = 0; i < kWords; ++i) words_[i] &= other.words_[i];
  return *this;
}

CpuSet& CpuSet::operator-=(const CpuSet& other) noexcept {
  for (std::size_t i = 0; i < kWords; ++i) words_[i] &= ~other.words_[i];
  return *this;
}

}  // namespace zap::zuma
