// The Range request header (RFC 9110 14.2), for one range of a representation of known size.
//
//   ByteRange range;
//   switch (parse_byte_range(head.range, file_size, range)) {
//     case RangeRequest::kNone:          /* 200 with the whole file */ break;
//     case RangeRequest::kSatisfiable:   /* 206, bytes range.first..range.last */ break;
//     case RangeRequest::kUnsatisfiable: /* 416 with "Content-Range: bytes *\/size" */ break;
//   }
//
// A header that is absent, of another unit, malformed, or asks for several ranges is kNone: the
// RFC lets a server ignore Range, and the whole representation is always a correct answer
// (multipart/byteranges is not produced).
#pragma once

#include <cstdint>
#include <string_view>

namespace zap::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};

enum class RangeRequest { kNone, kSatisfiable, kUnsatisfiable };

RangeRequest parse_byte_range(std::string_view header, std::uint64_t size, ByteRange& range);

}  // namespace zap::http
