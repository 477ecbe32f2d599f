#include "response.hpp"

#include "head_writer.hpp"
#include "status.hpp"

namespace zap::http {

std::size_t write_response_head(const Response& r, const HeadContext& context, char* out,
                                std::size_t capacity) {
  HeadWriter w(out, capacity);
  w << "HTTP/1.1 " << static_cast<std::uint64_t>(r.status) << " " << reason_phrase(r.status)
    << "\r\nServer: zap-http\r\nDate: " << context.date << "\r\n";
  // 304 and 204 carry no body and so no Content-Length / Content-Type (RFC 9110 8.6, 15.4.5).
  if (r.status != 304 && r.status != 204) {
    if (r.parts.count > 0) {
      w << "Content-Type: " << r.multipart.type() << "\r\n";
    } else if (!r.content_type.empty()) {
      w << "Content-Type: " << r.content_type << "\r\n";
    }
    w << "Content-Length: " << r.length << "\r\n";
  }
  if (!r.content_encoding.empty()) w << "Content-Encoding: " << r.content_encoding << "\r\n";
  if (r.vary_encoding) w << "Vary: Accept-Encoding\r\n";
  if (r.validators && r.file) {
    w << "Last-Modified: " << r.file->last_modified() << "\r\nETag: " << r.file->etag() << "\r\n";
    if (r.status != 304) w << "Accept-Ranges: bytes\r\n";
  }
  if (r.content_range) {
    if (r.status == 416) {
      w << "Content-Range: bytes */" << r.total_size << "\r\n";
    } else {
      w << "Content-Range: bytes " << r.range.first << "-" << r.range.last << "/" << r.total_size
        << "\r\n";
    }
  }
  if (!r.location.empty()) w << "Location: " << r.location << "\r\n";
  if (r.allow) w << "Allow: GET, HEAD, OPTIONS\r\n";
  if (r.retry_later) w << "Retry-After: 1\r\n";
  if (r.status < 400) w << context.extra_headers;
  if (r.close || !context.keep_alive) {
    w << "Connection: close\r\n";
  } else if (context.http10) {
    w << "Connection: keep-alive\r\n";
  }
  w << "\r\n";
  return w.size();
}

}  // namespace zap::http
