// Files: positioned reads and writes, fsync, statx, open and close as Operations, and FileSender,
// which moves a file range to a socket without copying through user space (splice through a
// private pipe: file -> pipe -> socket).
//
//   read_op.prep_openat(AT_FDCWD, "data.bin", O_RDONLY);          // Result::fd()
//   read_op.prep_read(fd, buf, 4096, /*offset=*/8192);
//   write_op.prep_write(fd, buf, n, offset);  write_op.prep_fsync(fd);
//   struct statx st; stat_op.prep_statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
//
//   zio::FileSender sender;                                        // reusable, owns its pipe
//   sender.start(loop, file_fd, /*offset=*/0, /*count=*/size, sock_fd, &on_sent, user);
//   void on_sent(zio::FileSender& s, zio::Result r) { ... r.bytes() == size ... }
//
// On io_uring, file operations run asynchronously in the kernel. On epoll, regular files cannot
// be polled, so their reads, writes, fsync, statx, open and close run INLINE (blocking) inside
// Loop::submit(); the callback still arrives in run_once(). Put slow storage on a blocking pool
// (the runtime's job) when the epoll backend is in use.
// Thread-safety: a FileSender belongs to one Loop thread.
#pragma once

#include <fcntl.h>

#include <chrono>
#include <cstdint>
#include <system_error>

#include "zap/zio/fd.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zio {

class Loop;

// Synchronous open (O_CLOEXEC added), for set-up paths.
[[nodiscard]] UniqueFd open_file(const char* path, int flags, mode_t mode,
                                 std::error_code& ec) noexcept;

class FileSender {
 public:
  using Callback = void (*)(FileSender& sender, Result total);

  FileSender() noexcept;
  FileSender(const FileSender&) = delete;
  FileSender& operator=(const FileSender&) = delete;

  // Sends [offset, offset + count) of `file_fd` to `socket_fd`. The callback gets the bytes sent
  // (fewer than count only if the file ended early) or the first error. Returns an error (and
  // calls nothing) if the private pipe cannot be made.
  [[nodiscard]] std::error_code start(Loop& loop, int file_fd, std::uint64_t offset,
                                      std::uint64_t count, int socket_fd, Callback callback,
                                      void* user) noexcept;
  void cancel() noexcept;  // the callback then reports ECANCELED
  // A deadline for each splice into the socket (a peer that takes nothing for this long fails
  // the send with ETIMEDOUT); zero, the default, for none. Applies from the next splice.
  void set_timeout(std::chrono::nanoseconds timeout) noexcept { timeout_ = timeout; }
  [[nodiscard]] void* user() const noexcept { return user_; }
  [[nodiscard]] bool busy() const noexcept { return to_pipe_.busy() || to_socket_.busy(); }

 private:
  static void on_to_pipe(Operation& op, Result r);
  static void on_to_socket(Operation& op, Result r);
  void fill() noexcept;
  void drain_pipe() noexcept;
  void finish(Result r) noexcept;

  static constexpr std::uint32_t kChunk = 64 * 1024;  // one default pipe buffer
  Loop* loop_ = nullptr;
  Callback callback_ = nullptr;
  void* user_ = nullptr;
  UniqueFd pipe_read_;
  UniqueFd pipe_write_;
  Operation to_pipe_;
  Operation to_socket_;
  std::uint64_t offset_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t sent_ = 0;
  std::uint32_t in_pipe_ = 0;
  int file_fd_ = -1;
  int socket_fd_ = -1;
  std::chrono::nanoseconds timeout_{0};
  bool cancelled_ = false;  // a cancel that found an op already done still ends the run
};

}  // namespace zap::zio
