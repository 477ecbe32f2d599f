// LogFile and LogBuffer: the daemons' traffic logs (zap-http's access log, zap-proxy's connection
// log), one line per request or connection, gathered per worker and written with one write(2)
// per flush.
//
//   LogFile file("/var/log/zap/access.log", "access_log");  // opens (O_APPEND) or throws
//                                                            // ConfigError naming the key
//   LogBuffer buffer(file);                     // one per worker
//   std::string& line = buffer.begin_line();    // append one whole line, '\n' included, then
//   buffer.end_line();                          // written when 16 KiB wait or the oldest line is
//                                               // from an earlier second
//   co_await flush_log_buffers(buffers, "http: access log");   // each worker's periodic flush
//   file.reopen();                              // SIGHUP, after logrotate moved the file
//
//   append_log_text(line, text);                // \xHH-escaped, "-" if empty
//   LogTime time; time.append(line, now, true); // "[04/Dec/2026:05:54:25.123 +0000]"
//
// O_APPEND: whole lines from several workers' buffers never interleave within a line on a local
// file system, so a line costs a formatted copy, not a syscall. A write that fails (a full disk)
// drops what was pending -- a log is not worth a stalled server -- and is reported once by the
// flusher.
// Thread-safety: a LogBuffer and a LogTime belong to one worker; LogFile's members are
// thread-safe (the descriptor is swapped by reopen() under a lock that writes also take, once
// per flush).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zap/zell/task.hpp>
#include <zap/zio/fd.hpp>
#include <zap/zync/mutex.hpp>

namespace zap::app {

class LogFile {
 public:
  // `key`: the config key that named the file, for the error if it cannot be opened.
  explicit LogFile(std::string path, std::string_view key);
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  const std::string& path() const { return path_; }
  // Opens the path again (the old file was moved away); on failure keeps the old descriptor and
  // returns the error text, else "".
  std::string reopen();
  // Appends `bytes` to the file; false (and errno) if the write failed.
  bool write(std::string_view bytes);

 private:
  std::string path_;
  zync::Mutex lock_;
  zio::UniqueFd fd_;  // guarded by lock_
};

class LogBuffer {
 public:
  explicit LogBuffer(LogFile& file);
  ~LogBuffer();
  LogBuffer(const LogBuffer&) = delete;
  LogBuffer& operator=(const LogBuffer&) = delete;

  LogFile& file() const { return file_; }
  // The text to append one line to (with its '\n'); end_line() must follow before the next.
  std::string& begin_line();
  void end_line();
  // Writes what is gathered; false if the write failed: those lines are dropped, and
  // take_error() says why.
  bool flush();
  // The errno of the last failed write since the last call, or 0.
  int take_error() { return std::exchange(error_, 0); }

 private:
  LogFile& file_;
  std::string pending_;
  std::int64_t oldest_ = 0;  // the second (CLOCK_MONOTONIC_COARSE) of the oldest line pending
  int error_ = 0;
};

// Timestamps for log lines, "[04/Dec/2026:05:54:25 +0000]" or with ".123" milliseconds, in UTC.
// The date and time of day are formatted once per second (gmtime_r is not free), not per line.
class LogTime {
 public:
  void append(std::string& out, const timespec& when, bool millis);

 private:
  std::int64_t second_ = -1;
  char text_[24] = {};  // "04/Dec/2026:05:54:25"
  std::size_t size_ = 0;
};

// `text` as a log field: bytes that are not printable ASCII, '"' and '\' as \xHH (as nginx
// does), so that a client cannot forge lines or fields; "-" if empty.
void append_log_text(std::string& out, std::string_view text);
void append_log_number(std::string& out, std::uint64_t value);
void append_log_number(std::string& out, std::int64_t value);

// Flushes each buffer every second, forever (cancel to stop): busy workers write as they go
// (LogBuffer::end_line), this writes the last lines before a pause. A failing file is warned
// about once, as "<what> PATH: write failed (...)", and again when it works.
zell::Task<void> flush_log_buffers(std::vector<LogBuffer*> buffers, std::string what);

}  // namespace zap::app
