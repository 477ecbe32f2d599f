// The IO awaitables' out-of-line parts: the worker's loop, writev_all, send_all, send_file.
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

WritevAllAwaiter::WritevAllAwaiter(int fd, const iovec* iov, int count, IoTimeout timeout) noexcept
    : fd_(fd), timeout_(timeout) {
  if (count > kMaxBuffers) {
    result_ = zio::Result(-static_cast<std::int64_t>(EINVAL));
    return;  // count_ 0: ready at once, with the error
  }
  for (int i = 0; i < count; ++i) {
    if (iov[i].iov_len > 0) iov_[count_++] = iov[i];  // nothing to write is skipped (result 0)
  }
}

bool WritevAllAwaiter::await_suspend(std::coroutine_handle<> handle) noexcept {
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
  submit_rest();
  return true;
}

void WritevAllAwaiter::submit_rest() noexcept {
  // One buffer left (the common case): a send, whose kernel path is shorter than writev's (no
  // iovec import, no generic VFS write). Not a socket (ENOTSOCK): writev from then on.
  if (count_ - first_ == 1 && !not_socket_) {
    op_.prep_send(fd_, iov_[first_].iov_base, iov_[first_].iov_len);
  } else {
    op_.prep_writev(fd_, iov_ + first_, count_ - first_);
  }
  detail::set_deadline(op_, timeout_);  // prep_* cleared it
  loop_->submit(op_);
}

void WritevAllAwaiter::on_complete(zio::Operation& op, zio::Result result) {
  auto* self = static_cast<WritevAllAwaiter*>(op.user());
  if (result.raw() == -ENOTSOCK && !self->not_socket_ && !self->cancelled_) {
    self->not_socket_ = true;  // a pipe or a file: the same bytes again, with writev
    return self->submit_rest();
  }
  if (!result) return self->finish(result);
  std::size_t n = result.bytes();
  self->sent_ += n;  // (before the cancel check below: these bytes went, whatever comes next)
  // A cancel that found this op already finished must still end the call here, not let it go
  // on with the next writev.
  if (self->cancelled_) return self->finish(zio::Result(-static_cast<std::int64_t>(ECANCELED)));
  if (n == 0) return self->finish(zio::Result(-static_cast<std::int64_t>(EPIPE)));
  while (self->first_ < self->count_ && n >= self->iov_[self->first_].iov_len) {
    n -= self->iov_[self->first_].iov_len;
    ++self->first_;
  }
  if (self->first_ == self->count_) {
    return self->finish(zio::Result(static_cast<std::int64_t>(self->sent_)));
  }
  iovec& partly = self->iov_[self->first_];
  partly.iov_base = static_cast<char*>(partly.iov_base) + n;
  partly.iov_len -= n;
  self->submit_rest();
}

void WritevAllAwaiter::finish(zio::Result result) noexcept {
  result_ = result;
  detail::TaskHeader* task = task_;
  detail::end_wait(task);
  detail::schedule(task);
}

// On the owning worker, under the task's wait lock: the op completes later (ECANCELED).
bool WritevAllAwaiter::try_cancel(detail::Waiter* waiter) noexcept {
  auto* self = static_cast<WritevAllAwaiter*>(waiter->context);
  self->cancelled_ = true;
  detail::loop_cancel(self->loop_, self->op_);
  return false;
}

bool SendFileAwaiter::await_suspend(std::coroutine_handle<> handle) noexcept {
  task_ = detail::current_task();
  detail::Worker* worker = detail::current_worker();
  zio::Loop* loop = worker != nullptr ? detail::worker_loop(worker) : nullptr;
  if (loop == nullptr || task_ == nullptr) {
    result_ = zio::Result(-static_cast<std::int64_t>(ENOTSUP));
    return false;
  }
  task_->resume_point = handle;
  waiter_.owner = worker;
  waiter_.try_cancel = &try_cancel;
  waiter_.context = this;
  if (!detail::begin_wait(task_, &waiter_)) {
    detail::schedule(task_);
    return true;
  }
  sender_.set_timeout(timeout_);
  if (std::error_code ec =
          sender_.start(*loop, file_fd_, offset_, count_, socket_fd_, &on_done, this)) {
    detail::end_wait(task_);
    result_ = zio::Result(-static_cast<std::int64_t>(ec.value()));
    return false;
  }
  return true;
}

void SendFileAwaiter::on_done(zio::FileSender& sender, zio::Result result) {
  auto* self = static_cast<SendFileAwaiter*>(sender.user());
  self->result_ = result;
  detail::TaskHeader* task = self->task_;
  detail::end_wait(task);
  detail::schedule(task);
}

bool SendFileAwaiter::try_cancel(detail::Waiter* waiter) noexcept {
  static_cast<SendFileAwaiter*>(waiter->context)->sender_.cancel();
  return false;
}

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
  zio::FileSender sender;  // lives in this frame: a pipe for this one send
  co_return co_await SendFileAwaiter(sender, socket_fd, file_fd, offset, count, {});
}

}  // namespace zap::zell
