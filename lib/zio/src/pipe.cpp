// Pipe creation and standard-stream flags.
#include "zap/zio/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace zap::zio {

Pipe make_pipe(std::error_code& ec) noexcept {
  ec.clear();
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
    ec = {errno, std::system_category()};
    return {};
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::error_code set_nonblocking(int fd, bool on) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return {errno, std::system_category()};
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) return {errno, std::system_category()};
  return {};
}

int set_pipe_size(int fd, int bytes, std::error_code& ec) noexcept {
  const int size = ::fcntl(fd, F_SETPIPE_SZ, bytes);
  ec = size < 0 ? std::error_code(errno, std::system_category()) : std::error_code();
  return size;
}

StdStream::StdStream(int fd, std::error_code& ec) noexcept : fd_(fd) {
  saved_flags_ = ::fcntl(fd, F_GETFL);
  if (saved_flags_ < 0) {
    ec = {errno, std::system_category()};
    return;
  }
  ec = set_nonblocking(fd, true);
}

StdStream::~StdStream() {
  if (saved_flags_ >= 0) ::fcntl(fd_, F_SETFL, saved_flags_);
}

}  // namespace zap::zio
