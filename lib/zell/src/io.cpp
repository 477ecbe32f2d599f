// The IO awaitables' out-of-line parts: the worker's loop, send_all, send_file.
#include "zap/zell/io.hpp"

#include <cerrno>

#include "worker.hpp"
#include "zap/zio/file.hpp"
#include "zap/zio/loop.hpp"

namespace zap::zell {

namespace detail {

zio::Loop* worker_loop(Worker* worker) noexcept { return worker->reactor().loop(); }
void loop_submit(zio::Loop* loop, zio::Operation& op) noexcept { loop->submit(op); }
void loop_cancel(zio::Loop* loop, zio::Operation& op) noexcept { loop->cancel(op); }

}  // namespace detail

zio::BackendKind current_io_backend() noexcept {
  detail::Worker* worker = detail::current_worker();
  zio::Loop* loop = worker != nullptr ? detail::worker_loop(worker) : nullptr;
  return loop != nullptr ? loop->backend() : zio::BackendKind::automatic;
}

namespace detail {

namespace {

// A FileSender run, awaited like an IoAwaiter.
class SendFileAwaiter {
 public:
  SendFileAwaiter(int socket_fd, int file_fd, std::uint64_t offset, std::uint64_t count) noexcept
      : socket_fd_(socket_fd), file_fd_(file_fd), offset_(offset), count_(count) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> handle) noexcept {
    task_ = current_task();
    worker_ = current_worker();
    zio::Loop* loop = worker_ != nullptr ? worker_loop(worker_) : nullptr;
    if (loop == nullptr) {
      result_ = zio::Result(-static_cast<std::int64_t>(ENOTSUP));
      return false;
    }
    task_->resume_point = handle;
    waiter_.owner = worker_;
    waiter_.try_cancel = &try_cancel;
    waiter_.context = this;
    if (!begin_wait(task_, &waiter_)) {
      schedule(task_);
      return true;
    }
    if (std::error_code ec =
            sender_.start(*loop, file_fd_, offset_, count_, socket_fd_, &on_done, this)) {
      end_wait(task_);
      result_ = zio::Result(-static_cast<std::int64_t>(ec.value()));
      return false;
    }
    return true;
  }
  zio::Result await_resume() const noexcept { return result_; }

 private:
  static void on_done(zio::FileSender& sender, zio::Result result) {
    auto* self = static_cast<SendFileAwaiter*>(sender.user());
    self->result_ = result;
    TaskHeader* task = self->task_;
    end_wait(task);
    schedule(task);
  }
  static bool try_cancel(Waiter* waiter) noexcept {
    static_cast<SendFileAwaiter*>(waiter->context)->sender_.cancel();
    return false;
  }

  int socket_fd_;
  int file_fd_;
  std::uint64_t offset_;
  std::uint64_t count_;
  zio::FileSender sender_;
  Waiter waiter_;
  TaskHeader* task_ = nullptr;
  Worker* worker_ = nullptr;
  zio::Result result_;
};

}  // namespace
}  // namespace detail

Task<zio::Result> send_all(int fd, const void* buf, std::size_t len, IoTimeout timeout) {
  const auto* bytes = static_cast<const char*>(buf);
  std::size_t sent = 0;
  while (sent < len) {
    zio::Result r = co_await send(fd, bytes + sent, len - sent, timeout);
    if (!r) co_return r;
    sent += r.bytes();
  }
  co_return zio::Result(static_cast<std::int64_t>(len));
}

Task<zio::Result> send_file(int socket_fd, int file_fd, std::uint64_t offset, std::uint64_t count) {
  co_return co_await detail::SendFileAwaiter(socket_fd, file_fd, offset, count);
}

}  // namespace zap::zell
