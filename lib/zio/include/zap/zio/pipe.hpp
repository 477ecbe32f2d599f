// Pipes and standard streams (TTYs): byte streams read and written with Operation::prep_read /
// prep_write at Operation::kCurrentPosition.
//
//   std::error_code ec;
//   zio::Pipe p = zio::make_pipe(ec);                 // both ends O_NONBLOCK | O_CLOEXEC
//   write_op.prep_write(p.write_end.get(), "hi", 2);
//   read_op.prep_read(p.read_end.get(), buf, sizeof(buf));
//
//   // stdin on the epoll backend must be non-blocking (io_uring does not care); this changes the
//   // open file description, which a shell shares with other processes: restore it at exit.
//   zio::StdStream in(zio::kStdin, ec);               // sets O_NONBLOCK, restores on destruction
//
// A read completing with 0 bytes means the write end was closed (EOF). Writing to a pipe whose
// read end is closed completes with EPIPE (SIGPIPE must be ignored by the process for pipes;
// sockets use MSG_NOSIGNAL).
// Thread-safety: the functions are stateless; a StdStream is owned by one thread.
#pragma once

#include <system_error>

#include "zap/zio/fd.hpp"

namespace zap::zio {

inline constexpr int kStdin = 0;
inline constexpr int kStdout = 1;
inline constexpr int kStderr = 2;

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

// pipe2(O_NONBLOCK | O_CLOEXEC).
[[nodiscard]] Pipe make_pipe(std::error_code& ec) noexcept;
[[nodiscard]] std::error_code set_nonblocking(int fd, bool on) noexcept;
// Resizes a pipe's buffer (F_SETPIPE_SZ); returns the new size or sets ec.
[[nodiscard]] int set_pipe_size(int fd, int bytes, std::error_code& ec) noexcept;

// Borrows a standard stream (not owned, never closed) and makes it non-blocking for the epoll
// backend, restoring its original flags on destruction.
class StdStream {
 public:
  StdStream(int fd, std::error_code& ec) noexcept;
  ~StdStream();
  StdStream(const StdStream&) = delete;
  StdStream& operator=(const StdStream&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
  int saved_flags_ = -1;
};

}  // namespace zap::zio
