// multipart/byteranges (RFC 9110 14.6): the body of a 206 that answers several ranges.
//
//   body = part_head(0) bytes(range 0) part_head(1) bytes(range 1) ... multipart_end()
//   part head: [CRLF] "--" boundary CRLF "Content-Type: " type CRLF
//              "Content-Range: bytes first-last/size" CRLF CRLF
//   end:       CRLF "--" boundary "--" CRLF
//
// The boundary is 20 random digits drawn once per process (as nginx does): never derived from the
// files, so no one can arrange for a file to contain it. Heads are written into caller memory; the
// total length is known before anything is sent, so the response carries a Content-Length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "byte_range.hpp"

namespace zap::http {

// "multipart/byteranges; boundary=<the boundary>", the response's Content-Type.
std::string_view multipart_content_type();

// Part `index`'s head into `out`; 0 if `capacity` is too small.
std::size_t write_part_head(std::size_t index, std::string_view type, const ByteRange& range,
                            std::uint64_t size, char* out, std::size_t capacity);
// The closing delimiter into `out`; 0 if `capacity` is too small.
std::size_t write_multipart_end(char* out, std::size_t capacity);
// Bytes of the whole body: every part's head and range, and the end.
std::uint64_t multipart_length(std::string_view type, const ByteRanges& ranges, std::uint64_t size);

}  // namespace zap::http
