#include "log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <spdlog/spdlog.h>
#include <zap/zell/sleep.hpp>

#include "config_reader.hpp"

namespace zap::app {

namespace {

constexpr std::size_t kFlushBytes = 16 * 1024;

int open_log(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

std::int64_t coarse_second() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // vDSO, no syscall
  return now.tv_sec;
}

}  // namespace

LogFile::LogFile(std::string path, std::string_view key)
    : path_(std::move(path)), fd_(open_log(path_)) {
  if (!fd_) {
    throw ConfigError(std::string(key) + ": cannot open \"" + path_ +
                      "\": " + std::strerror(errno));
  }
}

std::string LogFile::reopen() {
  zio::UniqueFd fresh(open_log(path_));
  if (!fresh) return std::strerror(errno);
  std::lock_guard guard(lock_);
  fd_ = std::move(fresh);
  return "";
}

bool LogFile::write(std::string_view bytes) {
  std::lock_guard guard(lock_);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

LogBuffer::LogBuffer(LogFile& file) : file_(file) {}

LogBuffer::~LogBuffer() { flush(); }

std::string& LogBuffer::begin_line() {
  // Reserved at the first line, not before: a worker only pays for the logs it writes to.
  if (pending_.capacity() < 2 * kFlushBytes) pending_.reserve(2 * kFlushBytes);
  if (pending_.empty()) oldest_ = coarse_second();
  return pending_;
}

void LogBuffer::end_line() {
  if (pending_.size() >= kFlushBytes || coarse_second() > oldest_) flush();
}

bool LogBuffer::flush() {
  if (pending_.empty()) return true;
  const bool written = file_.write(pending_);
  if (!written) error_ = errno;
  pending_.clear();
  return written;
}

void LogTime::append(std::string& out, const timespec& when, bool millis) {
  if (when.tv_sec != second_) {
    second_ = when.tv_sec;
    const std::time_t seconds = when.tv_sec;
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int n =
        std::snprintf(text_, sizeof text_, "%02d/%s/%04d:%02d:%02d:%02d", tm.tm_mday,
                      kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  out.push_back('[');
  out.append(text_, size_);
  if (millis) {
    const auto ms = static_cast<unsigned>(when.tv_nsec / 1'000'000);
    const char digits[] = {'.', static_cast<char>('0' + ms / 100),
                           static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10)};
    out.append(digits, sizeof digits);
  }
  out += " +0000]";
}

void append_log_text(std::string& out, std::string_view text) {
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

void append_log_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

void append_log_number(std::string& out, std::int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

zell::Task<void> flush_log_buffers(std::vector<LogBuffer*> buffers, std::string what) {
  std::vector<bool> failing(buffers.size(), false);
  for (;;) {
    co_await zell::sleep_for(std::chrono::seconds(1));
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const bool ok = buffers[i]->flush();
      const std::string& path = buffers[i]->file().path();
      if (const int error = buffers[i]->take_error(); error != 0 && !failing[i]) {
        spdlog::warn("{} {}: write failed ({}); lines are dropped until it works", what, path,
                     std::strerror(error));
      }
      if (ok && failing[i]) spdlog::info("{} {}: writes work again", what, path);
      failing[i] = !ok;
    }
  }
}

}  // namespace zap::app
