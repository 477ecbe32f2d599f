// FieldLines: a list-valued header field (RFC 9110 5.2, 5.6.1) that may arrive on several lines,
// read as the one comma-separated list the lines make together -- "If-None-Match: "a"" then
// "If-None-Match: "b"" means the same as "If-None-Match: "a", "b"". Without allocation: the views
// point into the request head, and a field may have up to kMaxLines lines (more is a 400).
//
//   FieldLines lines;
//   lines.add("\"a\", \"b\"");
//   lines.add("\"c\"");
//   lines.any_item([](std::string_view item) { return item == "\"c\""; });   // true
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ascii.hpp"

namespace zap::http {

class FieldLines {
 public:
  static constexpr std::size_t kMaxLines = 8;

  FieldLines() = default;
  // One line (what tests and single-valued callers have).
  FieldLines(std::string_view value) { add(value); }  // NOLINT(google-explicit-constructor)
  FieldLines(const char* value)
      : FieldLines(std::string_view(value)) {}  // NOLINT(google-explicit-constructor)

  // Adds a line's value; false if the field already has kMaxLines lines. An empty value adds no
  // item (an empty list), so a field sent only empty stays empty().
  bool add(std::string_view value) {
    value = trim_ows(value);
    if (value.empty()) return true;
    if (count_ == kMaxLines) return false;
    lines_[count_++] = value;
    return true;
  }

  bool empty() const { return count_ == 0; }
  std::size_t lines() const { return count_; }
  std::string_view line(std::size_t index) const { return lines_[index]; }

  // Calls visit(item) with each list item, trimmed of whitespace, in order across the lines,
  // skipping empty ones ("a,,b" has two); stops at and returns true for the first visit that
  // returns true.
  template <typename Visit>
  bool any_item(Visit&& visit) const {
    for (std::size_t i = 0; i < count_; ++i) {
      std::string_view rest = lines_[i];
      for (;;) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        if (!item.empty() && visit(item)) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    return false;
  }

 private:
  std::array<std::string_view, kMaxLines> lines_{};
  std::size_t count_ = 0;
};

}  // namespace zap::http
