// epoll backend: the event loop. See epoll_backend.hpp for the model; epoll_ops.cpp for syscalls.
#include "linux/epoll_backend.hpp"

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace zap::zio::detail {
namespace {
constexpr int kDeliveryRounds = 8;
}  // namespace

std::int64_t monotonic_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

EpollBackend::EpollBackend(int epoll_fd, int wake_fd, unsigned max_events)
    : Backend(BackendKind::epoll, wake_fd),
      epoll_fd_(epoll_fd),
      events_(std::max(max_events, 16u)) {
  fds_.resize(1024);
}

EpollBackend::~EpollBackend() { ::close(epoll_fd_); }

bool EpollBackend::is_write_side(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::write:
    case OpKind::writev:
    case OpKind::send:
    case OpKind::sendmsg:
    case OpKind::connect:
    case OpKind::splice:  // waits for its output (see prep_splice)
      return true;
    default:
      return false;
  }
}

int EpollBackend::wait_fd(const Operation& op) noexcept {
  return op.kind_ == OpKind::splice ? op.fd2_ : op.fd_;
}

EpollBackend::FdState& EpollBackend::state(int fd) {
  if (static_cast<std::size_t>(fd) >= fds_.size())
    fds_.resize(std::max<std::size_t>(fd + 1, fds_.size() * 2));
  return fds_[fd];
}

void EpollBackend::reset_fd(int fd) noexcept {
  if (static_cast<std::size_t>(fd) >= fds_.size()) return;  // state() starts it fresh
  FdState& s = fds_[fd];
  // Ops still queued here were waiting on a file that is gone; the new file must not inherit
  // them. (They belong to code that closed an fd under in-flight ops; fail them.)
  for (OpList* fifo : {&s.readers, &s.writers}) {
    while (Operation* op = fifo->head) {
      op->cancel_requested_ = true;  // ECANCELED, not a deadline's ETIMEDOUT
      unlink(*op);
      complete(*op, -ECANCELED);
    }
  }
  s = FdState{};
}

bool EpollBackend::ensure_registered(int fd, FdState& s) noexcept {
  if (s.registered) return true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  if (rc < 0 && errno == EEXIST) rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  if (rc == 0) {
    s.registered = true;
    return true;
  }
  if (errno == EPERM) s.unpollable = true;  // regular file or directory: blocking IO is "ready"
  return false;
}

void EpollBackend::complete(Operation& op, std::int64_t res) noexcept {
  op.result_ = res;
  op.state_ = Operation::State::done;
  done_.push_back(op);
}

void EpollBackend::unlink(Operation& op) noexcept {
  timers_.remove(op);
  if (op.kind_ == OpKind::timeout) return;
  FdState& s = fds_[wait_fd(op)];
  (op.wants_write_ ? s.writers : s.readers).remove(op);
}

void EpollBackend::submit(Operation& op) noexcept {
  ++pending_;
  op.state_ = Operation::State::queued;
  op.cancel_requested_ = false;
  op.connecting_ = false;
  op.heap_index_ = 0;
  switch (op.kind_) {
    case OpKind::timeout:
      timers_.push(op, monotonic_now_ns() + static_cast<std::int64_t>(op.offset_));
      return;
    case OpKind::close:
      if (op.fd_ >= 0) reset_fd(op.fd_);
      complete(op, perform(op));
      return;
    case OpKind::nop:
    case OpKind::shutdown:
    case OpKind::fsync:
    case OpKind::openat:
    case OpKind::statx:
    case OpKind::none:
      complete(op, op.kind_ == OpKind::none ? -EINVAL : perform(op));
      return;
    default:
      break;
  }

  const int fd = wait_fd(op);
  if (fd < 0) return complete(op, -EBADF);
  const bool write = is_write_side(op.kind_);
  FdState& s = state(fd);
  OpList& fifo = write ? s.writers : s.readers;
  if (fifo.empty() && (s.unpollable || (write ? s.write_ready : s.read_ready))) {
    const std::int64_t res = perform(op);
    if (res != -EAGAIN) {
      note_short_transfer(op, res, fds_[fd]);
      return complete(op, res);
    }
    (write ? s.write_ready : s.read_ready) = false;
  }
  FdState& st = state(fd);  // perform(accept/openat) may have grown fds_
  if (!st.unpollable && !ensure_registered(fd, st)) {
    if (st.unpollable) return complete(op, perform(op));  // regular file: blocking is fine
    return complete(op, -errno);
  }
  op.wants_write_ = write;
  (write ? st.writers : st.readers).push_back(op);
  if (op.timeout_ns_ > 0) timers_.push(op, monotonic_now_ns() + op.timeout_ns_);
}

void EpollBackend::cancel(Operation& op) noexcept {
  if (op.state_ != Operation::State::queued) return;  // idle, or result already decided
  op.cancel_requested_ = true;
  unlink(op);
  complete(op, -ECANCELED);
}

void EpollBackend::close_fd(int fd) noexcept {
  if (fd < 0) return;
  if (static_cast<std::size_t>(fd) < fds_.size() && fds_[fd].registered) {
    // Explicit removal: a dup() of fd elsewhere would keep the registration alive after close.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  }
  reset_fd(fd);  // queued ops complete with ECANCELED
  ::close(fd);
}

void EpollBackend::drain(int fd, bool write) noexcept {
  for (;;) {
    // Re-index every round: perform(accept) may grow fds_ and move the FdState.
    OpList& fifo = write ? fds_[fd].writers : fds_[fd].readers;
    Operation* op = fifo.head;
    if (op == nullptr) return;
    const std::int64_t res = perform(*op);
    if (res == -EAGAIN) {
      (write ? fds_[fd].write_ready : fds_[fd].read_ready) = false;
      return;
    }
    note_short_transfer(*op, res, fds_[fd]);
    unlink(*op);
    complete(*op, res);
  }
}

void EpollBackend::note_short_transfer(const Operation& op, std::int64_t res, FdState& s) noexcept {
  // A short recv/send drained/filled the socket buffer: wait for the next edge instead of paying
  // a syscall for the EAGAIN we can predict. Sound for sockets under EPOLLET: every later arrival
  // (or freed buffer space) raises a new edge. Not for EOF (res == 0): that stays readable.
  if (res <= 0 || static_cast<std::uint64_t>(res) >= op.len_) return;
  if (op.kind_ == OpKind::recv) s.read_ready = false;
  if (op.kind_ == OpKind::send) s.write_ready = false;
}

void EpollBackend::expire_timers(std::int64_t now) noexcept {
  while (Operation* op = timers_.top()) {
    if (TimerHeap::expiry(*op) > now) return;
    unlink(*op);
    complete(*op, op->kind_ == OpKind::timeout ? 0 : -ETIMEDOUT);
  }
}

std::size_t EpollBackend::run_once(std::int64_t timeout_ns) noexcept {
  if (!done_.empty()) timeout_ns = 0;
  if (Operation* first = timers_.top()) {
    const std::int64_t until =
        std::max<std::int64_t>(0, TimerHeap::expiry(*first) - monotonic_now_ns());
    if (timeout_ns < 0 || until < timeout_ns) timeout_ns = until;
  }

  int n = -1;
  if (has_pwait2_) {  // nanosecond timeouts (Linux 5.11)
    timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    n = ::epoll_pwait2(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                       timeout_ns < 0 ? nullptr : &ts, nullptr);
    if (n < 0 && errno == ENOSYS) has_pwait2_ = false;
  }
  if (!has_pwait2_) {
    // Round up: waking early would spin until the timer is due.
    const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), ms);
  }
  for (int i = 0; i < n; ++i) {  // n < 0 (EINTR): nothing to process
    const int fd = events_[i].data.fd;
    const std::uint32_t ev = events_[i].events;
    if (fd == wake_fd_) {
      while (::read(wake_fd_, &wake_buf_, sizeof(wake_buf_)) < 0 && errno == EINTR) {
      }
      consume_wake();
      continue;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      fds_[fd].read_ready = true;
      drain(fd, false);
    }
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      fds_[fd].write_ready = true;
      drain(fd, true);
    }
  }
  if (!timers_.empty()) expire_timers(monotonic_now_ns());

  // Callbacks run last, each round from a detached list. Ops they complete inline (a send that
  // fit in the socket buffer) are delivered in a further round of this turn, not after another
  // epoll_wait; the round limit keeps a callback that resubmits forever from starving IO.
  std::size_t delivered = 0;
  for (int round = 0; round < kDeliveryRounds && !done_.empty(); ++round) {
    OpList finished = done_;
    done_ = OpList{};
    while (Operation* op = finished.pop_front()) delivered += deliver(*op, op->result_);
  }
  return delivered;
}

std::unique_ptr<Backend> make_epoll_backend(const LoopOptions& options, std::error_code& ec) {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    ec = {errno, std::system_category()};
    return nullptr;
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ec = {errno, std::system_category()};
    ::close(epoll_fd);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: stays reported until read, so no wake is lost
  ev.data.fd = wake_fd;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
    ec = {errno, std::system_category()};
    ::close(wake_fd);
    ::close(epoll_fd);
    return nullptr;
  }
  return std::make_unique<EpollBackend>(epoll_fd, wake_fd, options.entries);
}

}  // namespace zap::zio::detail
