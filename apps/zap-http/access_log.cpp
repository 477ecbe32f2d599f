#include "access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "config_reader.hpp"

namespace zap::http {

namespace {

constexpr std::size_t kFlushBytes = 16 * 1024;

int open_log(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (text.empty()) {
    out.push_back('-');
    return;
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace

AccessLog::AccessLog(std::string path, std::string_view key)
    : path_(std::move(path)), fd_(open_log(path_)) {
  if (!fd_) {
    throw app::ConfigError(std::string(key) + ": cannot open \"" + path_ +
                           "\": " + std::strerror(errno));
  }
}

std::string AccessLog::reopen() {
  zio::UniqueFd fresh(open_log(path_));
  if (!fresh) return std::strerror(errno);
  std::lock_guard guard(lock_);
  fd_ = std::move(fresh);
  return "";
}

bool AccessLog::write(std::string_view bytes) {
  std::lock_guard guard(lock_);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

AccessLog::Buffer::Buffer(AccessLog& log) : log_(log) {}

AccessLog::Buffer::~Buffer() { flush(); }

void AccessLog::Buffer::append(const AccessRecord& r) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != time_second_) {  // gmtime_r and the format once a second, not per line
    time_second_ = now.tv_sec;
    const std::time_t seconds = now.tv_sec;
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int n = std::snprintf(
        time_text_, sizeof time_text_, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
        kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    time_size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Reserved at the first line, not before: a worker only pays for the logs its sites use.
  if (pending_.capacity() < 2 * kFlushBytes) pending_.reserve(2 * kFlushBytes);
  if (pending_.empty()) oldest_ = now.tv_sec;  // (set before the line: checked after it)
  pending_.append(r.client.empty() ? std::string_view("-") : r.client);
  pending_ += " - - ";
  pending_.append(time_text_, time_size_);
  pending_ += " \"";
  append_escaped(pending_, r.request_line);
  pending_ += "\" ";
  append_number(pending_, static_cast<std::uint64_t>(r.status));
  pending_.push_back(' ');
  append_number(pending_, r.body_bytes);
  pending_ += " \"";
  append_escaped(pending_, r.referer);
  pending_ += "\" \"";
  append_escaped(pending_, r.user_agent);
  pending_ += "\"\n";
  if (pending_.size() >= kFlushBytes || now.tv_sec > oldest_) flush();
}

bool AccessLog::Buffer::flush() {
  if (pending_.empty()) return true;
  const bool written = log_.write(pending_);
  if (!written) error_ = errno;
  pending_.clear();
  return written;
}

}  // namespace zap::http
