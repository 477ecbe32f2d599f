// UniqueFd: sole owner of a file descriptor; closes it on destruction. Move-only.
//
//   zio::UniqueFd fd(::open("x", O_RDONLY | O_CLOEXEC));
//   if (!fd) return std::error_code(errno, std::system_category());
//   int raw = fd.get();      // borrow
//   int mine = fd.release(); // take ownership away
//
// Closing a descriptor that has operations in flight on a Loop: see loop.hpp (Loop::close_fd
// cancels them first; release() the UniqueFd and hand the fd to the loop).
//
// Thread-safety: none needed beyond that of an int; do not share one UniqueFd between threads.
#pragma once

#include <unistd.h>

#include <utility>

namespace zap::zio {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the current fd (errors ignored: the descriptor is gone either way on Linux).
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace zap::zio
