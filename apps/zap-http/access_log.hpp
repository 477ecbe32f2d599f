// AccessLogBuffer: zap-http's access log, one line per response in nginx's "combined" format,
// gathered per worker into an app::LogFile (see log_file.hpp for how lines are written):
//
//   127.0.0.1 - - [04/Dec/2026:05:54:25 +0000] "GET /index.html HTTP/1.1" 200 1706 "-"
//   "curl/7.88.1"
//
//   app::LogFile log("/var/log/zap/access.log", "access_log");   // or throws ConfigError
//   AccessLogBuffer buffer(log);                                 // one per worker
//   buffer.append({.client = "127.0.0.1", .request_line = ..., .status = 200, .body_bytes = n});
//
// Request bytes that are not printable ASCII, '"' and '\' are written as \xHH, so a request
// cannot forge lines or fields.
// Thread-safety: a buffer belongs to one worker.
#pragma once

#include <cstdint>
#include <string_view>

#include "log_file.hpp"

namespace zap::http {

struct AccessRecord {
  std::string_view client;        // "127.0.0.1", "::1", or "-"
  std::string_view request_line;  // as received; "-" if none could be read
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::string_view referer;
  std::string_view user_agent;
};

class AccessLogBuffer {
 public:
  explicit AccessLogBuffer(app::LogFile& log) : buffer_(log) {}

  void append(const AccessRecord& record);
  // Writes what is gathered; false if the write failed (take_error() says why).
  bool flush() { return buffer_.flush(); }
  int take_error() { return buffer_.take_error(); }
  app::LogBuffer& lines() { return buffer_; }

 private:
  app::LogBuffer buffer_;
  app::LogTime time_;
};

}  // namespace zap::http
