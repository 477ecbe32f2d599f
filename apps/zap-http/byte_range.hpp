// The Range request header (RFC 9110 14.2), for a representation of known size.
//
//   ByteRanges ranges;
//   switch (parse_byte_ranges(head.range, file_size, ranges)) {
//     case RangeRequest::kNone:          /* 200 with the whole file */ break;
//     case RangeRequest::kSatisfiable:   /* 206: ranges.count == 1: Content-Range; more:
//                                           multipart/byteranges (multipart.hpp) */ break;
//     case RangeRequest::kUnsatisfiable: /* 416 with "Content-Range: bytes *\/size" */ break;
//   }
//
// kNone (the RFC lets a server ignore Range; the whole representation is always a correct
// answer) for a header that is absent, of another unit or malformed anywhere, and for one asking
// for more than kMaxRanges ranges or for ranges that overlap or are out of ascending order -- the
// cheap ways to make a server send the same bytes many times (RFC 9110 14.2, 17.15), which is
// how nginx's max_ranges and Apache treat them too. The satisfiable ranges come in request order;
// the unsatisfiable ones (starting at or past the end) are left out, and if none is left the
// request is kUnsatisfiable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zap::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};

inline constexpr std::size_t kMaxRanges = 16;

struct ByteRanges {
  ByteRange items[kMaxRanges];
  std::size_t count = 0;
};

enum class RangeRequest { kNone, kSatisfiable, kUnsatisfiable };

RangeRequest parse_byte_ranges(std::string_view header, std::uint64_t size, ByteRanges& ranges);

}  // namespace zap::http
