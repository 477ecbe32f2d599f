// Response: what zap-http answers to one request -- status, headers to send, and where the body
// comes from (memory or a file range) -- and the writer of its head.
//
//   Response r;                         // filled by StaticSite::respond()
//   std::size_t n = write_response_head(r, {.date = clock.text(), .keep_alive = true}, out, cap);
//   if (n == 0) ... out too small (cannot happen with kMaxResponseHead bytes) ...
//
// The head is written into caller-provided memory, so a response costs no allocation.
// Header values that came from the request (Location) are percent-encoded before they get here;
// nothing in a Response can contain CR or LF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "byte_range.hpp"
#include "file_cache.hpp"
#include "multipart.hpp"

namespace zap::http {

// The longest Location we send (a longer redirect target is answered 414), and a bound on the
// whole head: every other field is short and of bounded size.
inline constexpr std::size_t kMaxLocation = 4096;
inline constexpr std::size_t kMaxExtraHeaders = 2048;  // the config's "headers", rendered
inline constexpr std::size_t kMaxResponseHead = kMaxLocation + kMaxExtraHeaders + 1024;

struct Response {
  int status = 200;
  std::shared_ptr<const CachedFile> file;  // keeps `body` / `body_fd` alive until sent
  std::string_view content_type;
  std::string_view content_encoding;  // "gzip" for a precompressed variant, else empty
  bool vary_encoding = false;         // "Vary: Accept-Encoding": a .gz variant exists
  // The body: `body` bytes from memory, or else `length` bytes of `body_fd` from `offset`.
  std::string_view body;
  int body_fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;    // Content-Length (also for HEAD, which sends no body)
  bool send_body = true;       // false: HEAD, 304, 204
  bool validators = false;     // Last-Modified, ETag and Accept-Ranges from `file`
  bool content_range = false;  // 206: "bytes first-last/total"; 416: "bytes */total"
  ByteRange range;
  // A 206 for several ranges: multipart/byteranges (multipart.hpp) of these parts of the body
  // (all of the file: `body`, or `body_fd` from 0). Each part is labelled with content_type; the
  // response's own Content-Type is multipart.type().
  ByteRanges parts;
  MultipartLabel multipart;  // the boundary, and the Content-Type naming it
  std::uint64_t total_size = 0;
  std::string_view location;  // 301
  bool allow = false;         // "Allow: GET, HEAD, OPTIONS" (405, OPTIONS)
  bool retry_later = false;   // 503: "Retry-After: 1"
  bool close = false;         // the connection must close after this response

  void reset() { *this = Response{}; }
  // Bytes of body that go on the wire.
  std::uint64_t wire_body_length() const { return send_body ? length : 0; }
};

struct HeadContext {
  std::string_view date;  // IMF-fixdate of now
  bool keep_alive = true;
  bool http10 = false;  // the request was HTTP/1.0: keep-alive must be announced
  // Configured header lines ("Name: value\r\n"...), added to 2xx and 3xx responses (as nginx's
  // add_header): caching policy belongs to what was served, not to errors.
  std::string_view extra_headers = {};
};

// Writes the status line and header fields; 0 if `capacity` is too small.
std::size_t write_response_head(const Response& response, const HeadContext& context, char* out,
                                std::size_t capacity);

}  // namespace zap::http
