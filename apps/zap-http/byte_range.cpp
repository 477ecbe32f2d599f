#include "byte_range.hpp"

#include "ascii.hpp"

namespace zap::http {

namespace {

enum class Spec { kMalformed, kUnsatisfiable, kSatisfiable };

// One range-spec: "first-last", "first-" or "-suffix".
Spec parse_spec(std::string_view spec, std::uint64_t size, ByteRange& range) {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return Spec::kMalformed;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {  // suffix range "-N": the last N bytes
    std::uint64_t suffix = 0;
    if (!parse_decimal_saturating(last_text, suffix)) return Spec::kMalformed;
    if (suffix == 0 || size == 0) return Spec::kUnsatisfiable;
    range = {suffix >= size ? 0 : size - suffix, size - 1};
    return Spec::kSatisfiable;
  }
  if (!parse_decimal_saturating(first_text, first)) return Spec::kMalformed;
  if (last_text.empty()) {
    last = UINT64_MAX;  // "N-": to the end
  } else if (!parse_decimal_saturating(last_text, last) || last < first) {
    return Spec::kMalformed;  // invalid: the header is ignored, not refused (RFC 9110 14.1.1)
  }
  if (first >= size) return Spec::kUnsatisfiable;
  range = {first, last >= size ? size - 1 : last};
  return Spec::kSatisfiable;
}

}  // namespace

RangeRequest parse_byte_ranges(std::string_view header, std::uint64_t size, ByteRanges& ranges) {
  ranges.count = 0;
  header = trim_ows(header);
  if (!starts_with_ignore_case(header, "bytes=")) return RangeRequest::kNone;
  std::string_view list = header.substr(6);
  std::size_t specs = 0;
  for (bool last = false; !last;) {
    const std::size_t comma = list.find(',');
    const std::string_view spec = trim_ows(list.substr(0, comma));
    last = comma == std::string_view::npos;
    list.remove_prefix(last ? list.size() : comma + 1);
    if (spec.empty()) continue;  // an empty list element counts for nothing (RFC 9110 5.6.1.2)
    if (++specs > kMaxRanges) return RangeRequest::kNone;
    ByteRange range;
    switch (parse_spec(spec, size, range)) {
      case Spec::kMalformed:
        return RangeRequest::kNone;
      case Spec::kUnsatisfiable:
        break;
      case Spec::kSatisfiable:
        // Ascending, and apart: anything else is ignored (see byte_range.hpp).
        if (ranges.count > 0 && range.first <= ranges.items[ranges.count - 1].last) {
          return RangeRequest::kNone;
        }
        ranges.items[ranges.count++] = range;
        break;
    }
  }
  if (specs == 0) return RangeRequest::kNone;  // "bytes=" or "bytes=,"
  return ranges.count > 0 ? RangeRequest::kSatisfiable : RangeRequest::kUnsatisfiable;
}

}  // namespace zap::http
