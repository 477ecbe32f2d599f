// multipart/byteranges (RFC 9110 14.6): the body of a 206 that answers several ranges.
//
//   body = part_head(0) bytes(range 0) part_head(1) bytes(range 1) ... multipart_end()
//   part head: [CRLF] "--" boundary CRLF "Content-Type: " type CRLF
//              "Content-Range: bytes first-last/size" CRLF CRLF
//   end:       CRLF "--" boundary "--" CRLF
//
// The boundary is 20 digits drawn anew from getrandom(2) for every response, so that it cannot be
// learnt from one response (or predicted from it) and planted in a file to confuse the parts of
// the next. Heads are written into caller memory; the total length is known before
// anything is sent, so the response carries a Content-Length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "byte_range.hpp"

namespace zap::http {

inline constexpr std::size_t kBoundarySize = 20;
inline constexpr std::string_view kMultipartTypePrefix = "multipart/byteranges; boundary=";

// Where a response keeps its boundary and its Content-Type value.
struct MultipartLabel {
  char content_type[kMultipartTypePrefix.size() + kBoundarySize] = {};
  std::string_view type() const { return {content_type, sizeof content_type}; }
  std::string_view boundary() const {
    return {content_type + kMultipartTypePrefix.size(), kBoundarySize};
  }
};

// Draws a fresh boundary into `label`.
void new_boundary(MultipartLabel& label);

// A part head is at most this long with a Content-Type of up to kMaxPartType bytes (the config
// refuses longer media types).
inline constexpr std::size_t kMaxPartType = 200;
inline constexpr std::size_t kMaxPartHead = 128 + kMaxPartType;

// Part `index`'s head into `out`; 0 if `capacity` is too small.
std::size_t write_part_head(std::string_view boundary, std::size_t index, std::string_view type,
                            const ByteRange& range, std::uint64_t size, char* out,
                            std::size_t capacity);
// The closing delimiter into `out`; 0 if `capacity` is too small.
std::size_t write_multipart_end(std::string_view boundary, char* out, std::size_t capacity);
// Bytes of the whole body: every part's head and range, and the end.
std::uint64_t multipart_length(std::string_view type, const ByteRanges& ranges, std::uint64_t size);

}  // namespace zap::http
