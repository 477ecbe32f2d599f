// open_file and FileSender (file -> pipe -> socket splice chain).
#include "zap/zio/file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "zap/zio/loop.hpp"
#include "zap/zio/pipe.hpp"

namespace zap::zio {

UniqueFd open_file(const char* path, int flags, mode_t mode, std::error_code& ec) noexcept {
  UniqueFd fd(::open(path, flags | O_CLOEXEC, mode));
  ec = fd ? std::error_code() : std::error_code(errno, std::system_category());
  return fd;
}

FileSender::FileSender() noexcept : to_pipe_(&on_to_pipe, this), to_socket_(&on_to_socket, this) {}

std::error_code FileSender::start(Loop& loop, int file_fd, std::uint64_t offset,
                                  std::uint64_t count, int socket_fd, Callback callback,
                                  void* user) noexcept {
  if (!pipe_read_) {  // made once, reused by later sends; recreated after an error
    std::error_code ec;
    Pipe p = make_pipe(ec);
    if (ec) return ec;
    pipe_read_ = std::move(p.read_end);
    pipe_write_ = std::move(p.write_end);
  }
  loop_ = &loop;
  callback_ = callback;
  user_ = user;
  file_fd_ = file_fd;
  socket_fd_ = socket_fd;
  offset_ = offset;
  remaining_ = count;
  sent_ = 0;
  in_pipe_ = 0;
  cancelled_ = false;
  if (count == 0) {       // nothing to splice, but the callback still never runs inside start()
    to_pipe_.prep_nop();  // completes with 0: on_to_pipe reports the 0 bytes sent
    loop.submit(to_pipe_);
    return {};
  }
  fill();
  return {};
}

void FileSender::fill() noexcept {
  if (cancelled_) return finish(Result(-static_cast<std::int64_t>(ECANCELED)));
  if (remaining_ == 0) return finish(Result(static_cast<std::int64_t>(sent_)));
  const auto chunk = static_cast<std::uint32_t>(std::min<std::uint64_t>(remaining_, kChunk));
  to_pipe_.prep_splice(file_fd_, offset_, pipe_write_.get(), Operation::kCurrentPosition, chunk,
                       SPLICE_F_MOVE);
  loop_->submit(to_pipe_);
}

void FileSender::on_to_pipe(Operation& op, Result r) {
  auto& self = *static_cast<FileSender*>(op.user());
  if (!r) return self.finish(r);
  if (r.bytes() == 0)
    return self.finish(Result(static_cast<std::int64_t>(self.sent_)));  // file ended
  self.in_pipe_ = static_cast<std::uint32_t>(r.bytes());
  self.offset_ += r.bytes();
  self.remaining_ -= r.bytes();
  self.drain_pipe();
}

void FileSender::drain_pipe() noexcept {
  if (cancelled_) return finish(Result(-static_cast<std::int64_t>(ECANCELED)));
  to_socket_.prep_splice(pipe_read_.get(), Operation::kCurrentPosition, socket_fd_,
                         Operation::kCurrentPosition, in_pipe_, SPLICE_F_MOVE);
  to_socket_.set_timeout(timeout_);  // prep_* cleared it
  loop_->submit(to_socket_);
}

void FileSender::on_to_socket(Operation& op, Result r) {
  auto& self = *static_cast<FileSender*>(op.user());
  if (!r) return self.finish(r);
  if (r.bytes() == 0) return self.finish(Result(-static_cast<std::int64_t>(EPIPE)));  // no progress
  self.in_pipe_ -= static_cast<std::uint32_t>(r.bytes());
  self.sent_ += r.bytes();
  if (self.in_pipe_ > 0) return self.drain_pipe();  // the socket took part of the pipe's content
  self.fill();
}

void FileSender::cancel() noexcept {
  if (loop_ == nullptr) return;
  cancelled_ = true;
  loop_->cancel(to_pipe_);
  loop_->cancel(to_socket_);
}

void FileSender::finish(Result r) noexcept {
  if (!r || in_pipe_ > 0) {  // bytes may be stranded in the pipe: start clean next time
    pipe_read_.reset();
    pipe_write_.reset();
  }
  callback_(*this, r);
}

}  // namespace zap::zio
