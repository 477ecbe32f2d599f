#include "byte_range.hpp"

#include "ascii.hpp"

namespace zap::http {

RangeRequest parse_byte_range(std::string_view header, std::uint64_t size, ByteRange& range) {
  header = trim_ows(header);
  if (!starts_with_ignore_case(header, "bytes=")) return RangeRequest::kNone;
  const std::string_view spec = trim_ows(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeRequest::kNone;  // several ranges
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeRequest::kNone;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {  // suffix range "-N": the last N bytes
    std::uint64_t suffix = 0;
    if (!parse_decimal(last_text, suffix)) return RangeRequest::kNone;
    if (suffix == 0 || size == 0) return RangeRequest::kUnsatisfiable;
    range = {suffix >= size ? 0 : size - suffix, size - 1};
    return RangeRequest::kSatisfiable;
  }
  if (!parse_decimal(first_text, first)) return RangeRequest::kNone;
  if (last_text.empty()) {
    last = UINT64_MAX;  // "N-": to the end
  } else if (!parse_decimal(last_text, last) || last < first) {
    return RangeRequest::kNone;  // invalid: ignored, not refused (RFC 9110 14.1.1)
  }
  if (first >= size) return RangeRequest::kUnsatisfiable;
  range = {first, last >= size ? size - 1 : last};
  return RangeRequest::kSatisfiable;
}

}  // namespace zap::http
