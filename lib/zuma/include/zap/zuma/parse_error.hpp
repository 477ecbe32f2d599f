// ParseError: why a text description (a CPU list, a topology) was rejected, and where.
//
//   auto set = zap::zuma::CpuSet::parse("0-3,,8");
//   if (!set) std::fprintf(stderr, "%s\n", set.error().to_string().c_str());
//   // -> "at offset 4: empty element in CPU list"
//
// `position` is a byte offset into the text that was parsed, pointing at the offending token
// (or at the end of the text when something is missing).
//
// Thread-safety: plain value type.
#pragma once

#include <cstddef>
#include <string>

namespace zap::zuma {

struct ParseError {
  std::string message;
  std::size_t position = 0;

  // "at offset <position>: <message>"
  std::string to_string() const;

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

}  // namespace zap::zuma
