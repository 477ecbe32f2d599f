// AccessLog: zap-http's access log, one line per response in nginx's "combined" format:
//
//   127.0.0.1 - - [04/Dec/2026:05:54:25 +0000] "GET /index.html HTTP/1.1" 200 1706 "-"
//   "curl/7.88.1"
//
//   AccessLog log("/var/log/zap/access.log");        // opens (O_APPEND) or throws ConfigError
//   AccessLog::Buffer buffer(log);                    // one per worker
//   buffer.append({.client = "127.0.0.1", .request_line = ..., .status = 200, .body_bytes = n});
//                                                     // writes when 16 KiB are waiting or the
//                                                     // oldest line is from an earlier second
//   if (!buffer.flush()) ... buffer.take_error() ...  // the worker's periodic flush, and at exit
//   log.reopen();                                     // SIGHUP, after logrotate moved the file
//
// Lines are gathered per worker and written with one write(2) per flush (O_APPEND: whole lines
// from several workers never interleave within a line on a local file system), so logging costs
// a formatted copy per request, not a syscall. Bytes that are not printable ASCII, '"' and '\'
// are written as \xHH (as nginx does), so a request cannot forge lines or fields.
// Thread-safety: a Buffer belongs to one worker; AccessLog's members are thread-safe (the file
// descriptor is swapped by reopen() under a lock that flushes also take, once per flush).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <zap/zio/fd.hpp>
#include <zap/zync/mutex.hpp>

namespace zap::http {

struct AccessRecord {
  std::string_view client;        // "127.0.0.1", "::1", or "-"
  std::string_view request_line;  // as received; "-" if none could be read
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::string_view referer;
  std::string_view user_agent;
};

class AccessLog {
 public:
  // `key`: the config key that named the file, for the error if it cannot be opened.
  explicit AccessLog(std::string path, std::string_view key = "access_log");
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  const std::string& path() const { return path_; }
  // Opens the path again (the old file was moved away); on failure keeps the old descriptor and
  // returns the error text, else "".
  std::string reopen();
  // Appends `bytes` to the file; false (and errno) if the write failed.
  bool write(std::string_view bytes);

  class Buffer {
   public:
    explicit Buffer(AccessLog& log);
    ~Buffer();
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    void append(const AccessRecord& record);
    // Writes what is gathered; false if the write failed (a full disk): those lines are
    // dropped -- the log is not worth a stalled server -- and last_error() says why.
    bool flush();
    // The errno of the last failed write since the last call, or 0.
    int take_error() { return std::exchange(error_, 0); }

   private:
    AccessLog& log_;
    std::string pending_;
    std::int64_t oldest_ = 0;  // the second of the oldest line in pending_
    std::int64_t time_second_ = -1;
    char time_text_[32] = {};  // "[04/Dec/2026:05:54:25 +0000]"
    std::size_t time_size_ = 0;
    int error_ = 0;
  };

 private:
  std::string path_;
  zync::Mutex lock_;
  zio::UniqueFd fd_;  // guarded by lock_
};

}  // namespace zap::http
