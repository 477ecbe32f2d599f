// Async IO for tasks: awaitables over the worker's zio::Loop -- accept, connect, recv, send,
// writev, writev_all, read, write, send_file, poll, close -- each with an optional deadline.
//
//   #include <zap/zio/socket.hpp>   // listen_stream, SocketAddress (not included from here)
//   std::error_code ec;
//   auto addr = zap::zio::SocketAddress::parse("127.0.0.1:0", ec);
//   zap::zio::UniqueFd listener = zap::zio::listen_stream(addr, {.reuse_port = true}, ec);
//   zap::zio::Result r = co_await zap::zell::accept(listener.get());
//   if (!r) co_return r.error();                      // std::error_code
//   zap::zio::UniqueFd conn(r.fd());
//   char buf[4096];
//   auto got = co_await zap::zell::recv(conn.get(), buf, sizeof buf, std::chrono::seconds(5));
//   if (got && got.bytes() > 0) co_await zap::zell::send_all(conn.get(), buf, got.bytes());
//
// Each awaitable is one zio::Operation living in the awaiting frame (no allocation), submitted
// to the loop of the worker the task runs on; the task is resumed by its completion. Results are
// zio::Result: bytes / the new fd, or an error_code (ETIMEDOUT when the deadline passed,
// ECANCELED, ENOTSUP when the runtime has no IO loop). Nothing here throws.
//
// Cancellation: cancelling the task asks its worker's loop to cancel the operation in flight; the
// frame is destroyed only after the operation has completed, so the kernel never writes into a
// dead frame.
//
// Thread-safety: call from a task. An fd may have one reader and one writer in flight at once.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zell/task.hpp"
#include "zap/zio/address.hpp"
#include "zap/zio/file.hpp"
#include "zap/zio/loop.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zell {

namespace detail {
// The IO loop of `worker`, or nullptr if the runtime runs without IO.
zio::Loop* worker_loop(Worker* worker) noexcept;
void loop_submit(zio::Loop* loop, zio::Operation& op) noexcept;
void loop_cancel(zio::Loop* loop, zio::Operation& op) noexcept;
}  // namespace detail

// The backend of the calling worker's IO loop (io_uring or epoll); automatic when called outside
// a worker or in a runtime without IO. For code that picks a strategy per backend: e.g. a direct
// non-blocking send pays on epoll (the awaitable would make the same syscall a turn later) but
// not on io_uring (the awaitable's send rides in the turn's one batched io_uring_enter).
[[nodiscard]] zio::BackendKind current_io_backend() noexcept;

// One IO operation, awaited. Prepare op() before awaiting (the helpers below do).
class IoAwaiter {
 public:
  // `prepare(op)` fills in the request (a zio prep_* call, and a deadline).
  template <typename Prepare>
  explicit IoAwaiter(Prepare&& prepare) noexcept {
    prepare(op_);
  }
  IoAwaiter(const IoAwaiter&) = delete;
  IoAwaiter& operator=(const IoAwaiter&) = delete;

  zio::Operation& op() noexcept { return op_; }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> handle) noexcept {
    task_ = detail::current_task();
    detail::Worker* worker = detail::current_worker();
    loop_ = worker != nullptr ? detail::worker_loop(worker) : nullptr;
    if (loop_ == nullptr || task_ == nullptr) {
      result_ = zio::Result(-static_cast<std::int64_t>(ENOTSUP));
      return false;
    }
    task_->resume_point = handle;
    op_.set_callback(&on_complete, this);
    waiter_.owner = worker;
    waiter_.try_cancel = &try_cancel;
    waiter_.context = this;
    if (!detail::begin_wait(task_, &waiter_)) {
      detail::schedule(task_);  // cancelled before submitting: run once more, to be dropped
      return true;
    }
    detail::loop_submit(loop_, op_);
    return true;
  }
  zio::Result await_resume() const noexcept { return result_; }

 private:
  static void on_complete(zio::Operation& op, zio::Result result) {
    auto* self = static_cast<IoAwaiter*>(op.user());
    self->result_ = result;
    detail::TaskHeader* task = self->task_;
    detail::end_wait(task);
    detail::schedule(task);
  }
  // On the owning worker, under the task's wait lock: the op completes later (ECANCELED).
  static bool try_cancel(detail::Waiter* waiter) noexcept {
    auto* self = static_cast<IoAwaiter*>(waiter->context);
    detail::loop_cancel(self->loop_, self->op_);
    return false;
  }

  zio::Operation op_;
  detail::Waiter waiter_;
  detail::TaskHeader* task_ = nullptr;
  zio::Loop* loop_ = nullptr;
  zio::Result result_;
};

namespace detail {
inline void set_deadline(zio::Operation& op, std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() > 0) op.set_timeout(timeout);
}
}  // namespace detail

using IoTimeout = std::chrono::nanoseconds;  // 0: no deadline

// Result::fd(): the accepted connection (non-blocking, close-on-exec). `peer` optional.
[[nodiscard]] inline IoAwaiter accept(int listen_fd, zio::SocketAddress* peer = nullptr,
                                      IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_accept(listen_fd, peer);
    detail::set_deadline(op, timeout);
  });
}
// `fd` from zio::open_socket(); `to` must outlive the await.
[[nodiscard]] inline IoAwaiter connect(int fd, const zio::SocketAddress& to,
                                       IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_connect(fd, to);
    detail::set_deadline(op, timeout);
  });
}
// 0 bytes: the peer closed.
[[nodiscard]] inline IoAwaiter recv(int fd, void* buf, std::size_t len, IoTimeout timeout = {},
                                    int flags = 0) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_recv(fd, buf, len, flags);
    detail::set_deadline(op, timeout);
  });
}
[[nodiscard]] inline IoAwaiter send(int fd, const void* buf, std::size_t len,
                                    IoTimeout timeout = {}, int flags = 0) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_send(fd, buf, len, flags);
    detail::set_deadline(op, timeout);
  });
}
[[nodiscard]] inline IoAwaiter writev(int fd, const iovec* iov, int count,
                                      IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_writev(fd, iov, count);
    detail::set_deadline(op, timeout);
  });
}
[[nodiscard]] inline IoAwaiter read(int fd, void* buf, std::size_t len,
                                    std::uint64_t offset = zio::Operation::kCurrentPosition,
                                    IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_read(fd, buf, len, offset);
    detail::set_deadline(op, timeout);
  });
}
[[nodiscard]] inline IoAwaiter write(int fd, const void* buf, std::size_t len,
                                     std::uint64_t offset = zio::Operation::kCurrentPosition,
                                     IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_write(fd, buf, len, offset);
    detail::set_deadline(op, timeout);
  });
}
[[nodiscard]] inline IoAwaiter shutdown(int fd, int how) noexcept {
  return IoAwaiter([&](zio::Operation& op) { op.prep_shutdown(fd, how); });
}
// Waits until `fd` is ready for POLLIN or POLLOUT (zio::Operation::prep_poll), for IO the task
// then does itself (e.g. sendfile(2) to a non-blocking socket). Result::raw(): the ready mask.
[[nodiscard]] inline IoAwaiter poll(int fd, short events, IoTimeout timeout = {}) noexcept {
  return IoAwaiter([&](zio::Operation& op) {
    op.prep_poll(fd, events);
    detail::set_deadline(op, timeout);
  });
}
// Closes `fd` through the loop (cancel its other operations first: see zio::Loop::close_fd).
[[nodiscard]] inline IoAwaiter close(int fd) noexcept {
  return IoAwaiter([&](zio::Operation& op) { op.prep_close(fd); });
}

// Sends all `len` bytes (several sends if needed). Result: `len`, or the first error.
Task<zio::Result> send_all(int fd, const void* buf, std::size_t len, IoTimeout timeout = {});
// Sends [offset, offset + count) of `file_fd` to `socket_fd` without copying through user space
// (zio::FileSender: splice through a pipe). Result: bytes sent, or the first error.
Task<zio::Result> send_file(int socket_fd, int file_fd, std::uint64_t offset, std::uint64_t count);

// Writes every byte of up to kMaxBuffers buffers, in order (writev -- or send when one buffer is
// left, cheaper on a socket -- resubmitted after a partial write from inside the completion: no
// task resumption and no coroutine frame per step). Works on pipes and files too. The
// iovec entries are copied in; the memory they point at must live until the await ends. Each
// writev carries `timeout` (a peer that takes nothing for that long fails the call with
// ETIMEDOUT). Result: the total, or the first error (EINVAL for more than kMaxBuffers); after an
// error, sent() says how many bytes went before it. Cancellation ends it with ECANCELED.
//
//   zio::Result r = co_await zell::writev_all(fd, {head, head_len}, {body, body_len}, 5s);
//
//   auto write = zell::writev_all(fd, {out, pending}, 5s);   // to learn sent() after a failure
//   if (zio::Result r = co_await write; !r) log_partial(write.sent());
class WritevAllAwaiter {
 public:
  static constexpr int kMaxBuffers = 4;

  WritevAllAwaiter(int fd, const iovec* iov, int count, IoTimeout timeout) noexcept;
  WritevAllAwaiter(const WritevAllAwaiter&) = delete;
  WritevAllAwaiter& operator=(const WritevAllAwaiter&) = delete;

  bool await_ready() const noexcept { return count_ == 0; }
  bool await_suspend(std::coroutine_handle<> handle) noexcept;
  zio::Result await_resume() const noexcept { return result_; }
  // Bytes written so far: after a failure, the ones that went before it.
  std::uint64_t sent() const noexcept { return sent_; }

 private:
  static void on_complete(zio::Operation& op, zio::Result result);
  static bool try_cancel(detail::Waiter* waiter) noexcept;
  void submit_rest() noexcept;
  void finish(zio::Result result) noexcept;

  zio::Operation op_;
  detail::Waiter waiter_;
  detail::TaskHeader* task_ = nullptr;
  zio::Loop* loop_ = nullptr;
  zio::Result result_;
  int fd_;
  iovec iov_[kMaxBuffers] = {};
  int first_ = 0;  // iov_[first_, count_) is still to be written
  int count_ = 0;
  IoTimeout timeout_;
  std::uint64_t sent_ = 0;
  bool cancelled_ = false;   // on the owning worker only: a completion racing a cancel stops
  bool not_socket_ = false;  // a send said ENOTSOCK: writev only
};

[[nodiscard]] inline WritevAllAwaiter writev_all(int fd, const iovec* iov, int count,
                                                 IoTimeout timeout = {}) noexcept {
  return WritevAllAwaiter(fd, iov, count, timeout);
}
// One or two buffers by value (not an initializer_list: GCC 12 miscompiles its backing array
// inside a co_await expression).
[[nodiscard]] inline WritevAllAwaiter writev_all(int fd, iovec only, IoTimeout timeout) noexcept {
  return WritevAllAwaiter(fd, &only, 1, timeout);
}
[[nodiscard]] inline WritevAllAwaiter writev_all(int fd, iovec first, iovec second,
                                                 IoTimeout timeout) noexcept {
  const iovec both[2] = {first, second};
  return WritevAllAwaiter(fd, both, 2, timeout);
}

// A zio::FileSender run, awaited: [offset, offset + count) of `file_fd` to `socket_fd`.
// `sender` is the caller's and is reused across sends (its pipe is made once), e.g. one per
// connection. Each splice into the socket carries `timeout`. Result: bytes sent (fewer than
// `count` only if the file ended early), or the first error.
class SendFileAwaiter {
 public:
  SendFileAwaiter(zio::FileSender& sender, int socket_fd, int file_fd, std::uint64_t offset,
                  std::uint64_t count, IoTimeout timeout) noexcept
      : sender_(sender),
        socket_fd_(socket_fd),
        file_fd_(file_fd),
        offset_(offset),
        count_(count),
        timeout_(timeout) {}
  SendFileAwaiter(const SendFileAwaiter&) = delete;
  SendFileAwaiter& operator=(const SendFileAwaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> handle) noexcept;
  zio::Result await_resume() const noexcept { return result_; }

 private:
  static void on_done(zio::FileSender& sender, zio::Result result);
  static bool try_cancel(detail::Waiter* waiter) noexcept;

  zio::FileSender& sender_;
  int socket_fd_;
  int file_fd_;
  std::uint64_t offset_;
  std::uint64_t count_;
  IoTimeout timeout_;
  detail::Waiter waiter_;
  detail::TaskHeader* task_ = nullptr;
  zio::Result result_;
};

[[nodiscard]] inline SendFileAwaiter send_file(zio::FileSender& sender, int socket_fd, int file_fd,
                                               std::uint64_t offset, std::uint64_t count,
                                               IoTimeout timeout = {}) noexcept {
  return SendFileAwaiter(sender, socket_fd, file_fd, offset, count, timeout);
}

}  // namespace zap::zell
