// CpuSet: a fixed-size set of CPU ids (0 .. kMaxCpus-1), with the Linux CPU-list text form.
//
//   auto set = zap::zuma::CpuSet::parse("0-3,8-11");   // Result<CpuSet, ParseError>
//   if (!set) return report(set.error());
//   for (unsigned cpu : *set) pin_worker_to(cpu);
//   std::string text = set->to_string();               // "0-3,8-11"
//
// The text form is the one sysfs uses (/sys/devices/system/cpu/online, node*/cpulist):
// comma-separated elements, each a CPU number or an inclusive range "a-b" with a <= b. Spaces and
// a trailing newline around the whole list are ignored; the empty list is the empty set. Rejected
// with a ParseError: "3-1" (reversed range), "a" (not a number), "1,,2" (empty element), "1,"
// (trailing comma), "1-" (range without end), and any CPU >= kMaxCpus.
//
// A CpuSet is what Thread takes as its affinity and what Topology returns for nodes and cores.
// Thread-safety: a value type (128 bytes); no internal synchronisation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "zap/zuma/parse_error.hpp"
#include "zap/zuma/result.hpp"

namespace zap::zuma {

class CpuSet {
 public:
  // CPU ids at or above this are rejected (by parse) or ignored (by add/contains).
  static constexpr unsigned kMaxCpus = 1024;

  class Iterator;

  constexpr CpuSet() noexcept = default;
  CpuSet(std::initializer_list<unsigned> cpus) noexcept {
    for (unsigned cpu : cpus) add(cpu);
  }

  // The CPUs first..last, inclusive (clamped to kMaxCpus-1).
  static CpuSet range(unsigned first, unsigned last) noexcept;
  // Parses the Linux CPU-list form described above.
  static Result<CpuSet, ParseError> parse(std::string_view text);

  // add/remove ignore cpu >= kMaxCpus; contains returns false for it.
  void add(unsigned cpu) noexcept {
    if (cpu < kMaxCpus) words_[cpu / 64] |= std::uint64_t{1} << (cpu % 64);
  }
  void remove(unsigned cpu) noexcept {
    if (cpu < kMaxCpus) words_[cpu / 64] &= ~(std::uint64_t{1} << (cpu % 64));
  }
  bool contains(unsigned cpu) const noexcept {
    return cpu < kMaxCpus && ((words_[cpu / 64] >> (cpu % 64)) & 1) != 0;
  }
  void clear() noexcept { words_ = {}; }

  std::size_t count() const noexcept;
  bool empty() const noexcept;
  // The lowest CPU in the set, or nullopt when empty.
  std::optional<unsigned> first() const noexcept;
  // The lowest CPU strictly greater than `cpu`, or nullopt.
  std::optional<unsigned> next_after(unsigned cpu) const noexcept;
  // The n-th lowest CPU (0-based), or nullopt when n >= count().
  std::optional<unsigned> nth(std::size_t n) const noexcept;

  // Canonical CPU-list text: ascending, maximal runs written "a-b" (a single CPU as "a"), and
  // "" for the empty set. parse(to_string()) == *this.
  std::string to_string() const;

  Iterator begin() const noexcept;
  Iterator end() const noexcept;

  CpuSet& operator|=(const CpuSet& other) noexcept;
  CpuSet& operator&=(const CpuSet& other) noexcept;
  // Removes the CPUs of `other` (set difference).
  CpuSet& operator-=(const CpuSet& other) noexcept;
  friend CpuSet operator|(CpuSet a, const CpuSet& b) noexcept { return a |= b; }
  friend CpuSet operator&(CpuSet a, const CpuSet& b) noexcept { return a &= b; }
  friend CpuSet operator-(CpuSet a, const CpuSet& b) noexcept { return a -= b; }
  friend bool operator==(const CpuSet&, const CpuSet&) noexcept = default;

 private:
  static constexpr std::size_t kWords = kMaxCpus / 64;
  std::array<std::uint64_t, kWords> words_{};
};

// Forward iterator over the CPUs of a set, ascending. Invalidated by changes to the set.
class CpuSet::Iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = unsigned;
  using difference_type = std::ptrdiff_t;
  using pointer = const unsigned*;
  using reference = unsigned;

  Iterator() noexcept = default;
  unsigned operator*() const noexcept { return cpu_; }
  Iterator& operator++() noexcept {
    cpu_ = set_->next_after(cpu_).value_or(kMaxCpus);
    return *this;
  }
  Iterator operator++(int) noexcept {
    Iterator old = *this;
    ++*this;
    return old;
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.cpu_ == b.cpu_; }

 private:
  friend class CpuSet;
  Iterator(const CpuSet* set, unsigned cpu) noexcept : set_(set), cpu_(cpu) {}
  const CpuSet* set_ = nullptr;
  unsigned cpu_ = kMaxCpus;
};

inline CpuSet::Iterator CpuSet::begin() const noexcept {
  return Iterator(this, first().value_or(kMaxCpus));
}
inline CpuSet::Iterator CpuSet::end() const noexcept { return Iterator(this, kMaxCpus); }

}  // namespace zap::zuma
