// epoll backend: the event loop. See epoll_backend.hpp for the model; epoll_ops.cpp for syscalls.
#include "linux/epoll_backend.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "linux/deadline_clock.hpp"

namespace zap::zio::detail {
namespace {
constexpr int kDeliveryRounds = 8;
}  // namespace

EpollBackend::EpollBackend(int epoll_fd, int wake_fd, unsigned max_events)
    : Backend(BackendKind::epoll, wake_fd),
      epoll_fd_(epoll_fd),
      events_(std::max(max_events, 16u)),
      turn_now_(monotonic_now_ns()) {
  fds_.resize(1024);
  checks_.resize(1024);
}

EpollBackend::~EpollBackend() { ::close(epoll_fd_); }

bool EpollBackend::is_write_side(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::write:
    case OpKind::writev:
    case OpKind::send:
    case OpKind::sendmsg:
    case OpKind::connect:
      return true;
    default:
      return false;
  }
}

// A splice waits on whichever side was not ready (wants_write_: fd_out for POLLOUT, else fd_in).
int EpollBackend::wait_fd(const Operation& op) noexcept {
  return op.kind_ == OpKind::splice && op.wants_write_ ? op.fd2_ : op.fd_;
}

int EpollBackend::splice_other_fd(const Operation& op) noexcept {
  return op.wants_write_ ? op.fd_ : op.fd2_;
}

EpollBackend::FdState& EpollBackend::state(int fd) {
  if (static_cast<std::size_t>(fd) >= fds_.size())
    fds_.resize(std::max<std::size_t>(fd + 1, fds_.size() * 2));
  return fds_[fd];
}

void EpollBackend::reset_fd(int fd) noexcept {
  if (static_cast<std::size_t>(fd) >= fds_.size()) return;  // state() starts it fresh
  if (fds_[fd].splices_waiting_elsewhere > 0) cancel_splices_using(fd);
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

void EpollBackend::cancel_splices_using(int fd) noexcept {
  // Rare (an fd closed under a splice still using it): a scan of every FIFO is fine.
  for (FdState& s : fds_) {
    for (OpList* fifo : {&s.readers, &s.writers}) {
      for (Operation* op = fifo->head; op != nullptr;) {
        Operation* next = op->next_;
        if (op->kind_ == OpKind::splice && splice_other_fd(*op) == fd) {
          op->cancel_requested_ = true;
          unlink(*op);
          complete(*op, -ECANCELED);
        }
        op = next;
      }
    }
  }
}

void EpollBackend::leave_fifo(Operation& op) noexcept {
  FdState& s = fds_[wait_fd(op)];
  (op.wants_write_ ? s.writers : s.readers).remove(op);
  if (op.kind_ == OpKind::splice) --fds_[splice_other_fd(op)].splices_waiting_elsewhere;
}

int EpollBackend::arm(int fd, FdState& s) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  ev.data.fd = fd;
  if (s.registered) {
    // Same file still registered: re-armed, and its current readiness is reported again.
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    // ENOENT: another file holds the number now. EPERM: so does one epoll cannot wait on (a
    // regular file: the kernel checks that before it looks the fd up), learnt below.
    if (errno != ENOENT && errno != EPERM) return errno;
  }
  // A file we have not registered holds this number (first use, or the old one was closed behind
  // our back): nothing learnt about the old file applies.
  s.registered = false;
  s.unpollable = false;
  s.read_ready = false;
  s.write_ready = true;
  s.read_guessed = false;
  s.write_guessed = false;
  s.hung_up = false;
  s.urgent = false;
  s.stream = -1;
  int rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  if (rc < 0 && errno == EEXIST) rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  if (rc == 0) {
    s.registered = true;
    return 0;
  }
  if (errno == EPERM) s.unpollable = true;  // regular file or directory: blocking IO is "ready"
  return errno;
}

void EpollBackend::park(Operation& op, int fd, bool write) noexcept {
  FdState& s = state(fd);
  // Registered on the file's first wait. Later, the registration is checked (EPOLL_CTL_MOD,
  // which also reports current readiness as a new edge) when nothing waited on the fd, or when
  // this side starts waiting on a guess while the other side's ops keep it armed -- deferred, see
  // FdState.
  bool& guessed = write ? s.write_guessed : s.read_guessed;
  const bool own_side_idle = (write ? s.writers : s.readers).empty();
  if ((s.readers.empty() && s.writers.empty()) || (own_side_idle && guessed)) {
    guessed = false;
    // Not a splice: when both of its sides look ready it waits on its output (the poll in
    // splice_waits_for_output raced with arriving input), which only a re-arm reports again.
    // Splices are few, and their pipes are often new files at old numbers.
    if (s.registered && op.kind_ != OpKind::splice) {
      schedule_check(fd, s);
    } else if (const int err = arm(fd, s); err != 0) {
      timers_.remove(op);  // a splice moving to its other side may carry its deadline here
      if (s.unpollable) return complete(op, perform(op));  // regular file: blocking is fine
      return complete(op, -err);
    }
  }
  op.wants_write_ = write;
  (write ? s.writers : s.readers).push_back(op);
  if (op.kind_ == OpKind::splice) ++state(splice_other_fd(op)).splices_waiting_elsewhere;
}

void EpollBackend::schedule_check(int fd, FdState& s) noexcept {
  // A check already pending stays as it is: never postponed, so every wait is checked at most
  // kVerifyAfterNs after it began however often ops come and go (a recv with a 5 ms deadline
  // resubmitted each time, or the other side's ops parking on guesses).
  if (s.check_ticket != 0) return;
  if (checks_count_ == checks_.size()) {  // full: unroll into a buffer twice the size
    std::vector<PendingCheck> bigger(checks_.size() * 2);
    for (std::size_t i = 0; i < checks_count_; ++i)
      bigger[i] = checks_[(checks_head_ + i) % checks_.size()];
    checks_.swap(bigger);
    checks_head_ = 0;
  }
  if (++next_ticket_ == 0) next_ticket_ = 1;  // 0 means "no check"
  s.check_ticket = next_ticket_;
  checks_[(checks_head_ + checks_count_) % checks_.size()] =
      PendingCheck{fd, next_ticket_, turn_now_ + kVerifyAfterNs};
  ++checks_count_;
}

std::int64_t EpollBackend::next_check_due() noexcept {
  while (checks_count_ > 0) {
    const PendingCheck& c = checks_[checks_head_];
    FdState& s = fds_[c.fd];
    if (s.check_ticket == c.ticket) {
      if (!(s.readers.empty() && s.writers.empty())) return c.due;
      s.check_ticket = 0;  // nothing waits: the next wait schedules its own
    }
    checks_head_ = (checks_head_ + 1) % checks_.size();  // dropped, or the fd was reset
    --checks_count_;
  }
  return INT64_MAX;
}

bool EpollBackend::run_due_checks(std::int64_t now) noexcept {
  bool ran = false;
  while (next_check_due() <= now) {
    const PendingCheck c = checks_[checks_head_];
    checks_head_ = (checks_head_ + 1) % checks_.size();
    --checks_count_;
    FdState& s = fds_[c.fd];
    s.check_ticket = 0;
    if (const int err = arm(c.fd, s); err != 0) fail_waiting(c.fd, err);
    ran = true;
  }
  return ran;
}

void EpollBackend::fail_waiting(int fd, int err) noexcept {
  for (const bool write : {false, true}) {
    while (Operation* op = (write ? fds_[fd].writers : fds_[fd].readers).head) {
      unlink(*op);
      // A regular file now holds the number: blocking IO on it is what the op can do.
      complete(*op, fds_[fd].unpollable ? perform(*op) : -err);
    }
  }
}

void EpollBackend::complete(Operation& op, std::int64_t res) noexcept {
  op.result_ = res == kFinalEagain ? -EAGAIN : res;
  op.state_ = Operation::State::done;
  done_.push_back(op);
}

void EpollBackend::unlink(Operation& op) noexcept {
  timers_.remove(op);
  if (op.kind_ == OpKind::timeout) return;
  leave_fifo(op);
}

void EpollBackend::submit(Operation& op) noexcept {
  ++pending_;
  op.state_ = Operation::State::queued;
  op.cancel_requested_ = false;
  op.connecting_ = false;
  op.heap_index_ = 0;
  if (op.fd_ >= kMaxFdNumber || (op.kind_ == OpKind::splice && op.fd2_ >= kMaxFdNumber)) {
    return complete(op, -EBADF);  // no such fd can be open; keeps fds_ from growing to match
  }
  switch (op.kind_) {
    case OpKind::timeout:
      timers_.push(op, expiry_after(monotonic_now_ns(), static_cast<std::int64_t>(op.offset_)));
      return;
    case OpKind::close:
      if (op.fd_ >= 0) reset_fd(op.fd_);
      complete(op, perform(op));
      return;
    case OpKind::accept_multishot:
    case OpKind::recv_multishot:
      return submit_multishot(op);
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

  if (op.kind_ == OpKind::splice) {
    // Two fds: try at once, and on EAGAIN wait on the side that is not ready.
    if (op.fd_ < 0 || op.fd2_ < 0) return complete(op, -EBADF);
    const std::int64_t res = perform(op);
    if (res != -EAGAIN) return complete(op, res);
    const bool output = splice_waits_for_output(op.fd_, op.fd2_);
    park(op, output ? op.fd2_ : op.fd_, output);
  } else {
    const int fd = op.fd_;
    if (fd < 0) return complete(op, -EBADF);
    if (op.kind_ == OpKind::poll && !op.valid_poll()) return complete(op, -EINVAL);
    // A socket being connected is new (or at least not one to trust a registration of: its
    // number may have been closed behind the loop's back): registered on its first wait, not
    // checked kVerifyAfterNs later. Unless ops already wait on the number.
    if (op.kind_ == OpKind::connect) {
      FdState& s = state(fd);
      if (s.readers.empty() && s.writers.empty() && s.splices_waiting_elsewhere == 0) s = FdState{};
    }
    // A poll waits with the ops of the side it asks for.
    const bool write =
        op.kind_ == OpKind::poll ? (op.flags_ & POLLOUT) != 0 : is_write_side(op.kind_);
    FdState& s = state(fd);
    OpList& fifo = write ? s.writers : s.readers;
    // A file this loop has not registered yet is tried once too: an op it can never serve (a
    // recv on a pipe or a listening socket, a read on a pipe's write end) fails with its errno
    // now, as on io_uring, instead of waiting for readiness that never comes; and a new
    // connection's first request is often there already. One EAGAIN per file at most.
    if (fifo.empty() && (s.unpollable || !s.registered || (write ? s.write_ready : s.read_ready))) {
      const std::int64_t res = perform(op);
      if (res != -EAGAIN) {
        note_short_transfer(op, res, fds_[fd]);
        return complete(op, res);
      }
      FdState& st = fds_[fd];  // perform(accept) may have grown fds_
      st.unpollable = false;   // it can say EAGAIN: a hint left by an older file at this number
      (write ? st.write_ready : st.read_ready) = false;
      (write ? st.write_guessed : st.read_guessed) = false;  // known, not guessed
    }
    park(op, fd, write);
  }
  if (op.state_ == Operation::State::queued && op.timeout_ns_ > 0)
    timers_.push(op, deadline_after(op.timeout_ns_));
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
    if (op->is_multishot()) {
      if (!drain_multishot(fd, *op)) return;
      continue;
    }
    const std::int64_t res = perform(*op);
    if (res == -EAGAIN) {
      if (op->kind_ == OpKind::splice) {
        const bool output = splice_waits_for_output(op->fd_, op->fd2_);
        const int other = output ? op->fd2_ : op->fd_;
        if (other != fd || output != write) {  // now blocked on its other side: wait there
          leave_fifo(*op);
          park(*op, other, output);
          continue;
        }
      }
      (write ? fds_[fd].write_ready : fds_[fd].read_ready) = false;
      (write ? fds_[fd].write_guessed : fds_[fd].read_guessed) = false;
      return;
    }
    note_short_transfer(*op, res, fds_[fd]);
    unlink(*op);
    complete(*op, res);
  }
}

void EpollBackend::note_short_transfer(const Operation& op, std::int64_t res, FdState& s) noexcept {
  // A short recv/send drained/filled a stream socket's buffer: wait for the next edge instead of
  // paying a syscall for the EAGAIN we can predict. Sound only for a live stream socket under
  // EPOLLET, where every later arrival (or freed buffer space) raises a new edge. Not after
  // RDHUP/HUP/ERR (EOF or the error stays pending without a new edge), not for datagrams (a short
  // datagram says nothing about the next one), not for EOF itself (res == 0).
  const bool recv = op.kind_ == OpKind::recv || op.kind_ == OpKind::recv_multishot;
  const std::uint32_t capacity = op.kind_ == OpKind::recv_multishot ? ring_of(op).size() : op.len_;
  if (res <= 0 || static_cast<std::uint64_t>(res) >= capacity || s.hung_up) return;
  if (recv && s.urgent) return;                     // it may have stopped at the urgent mark
  if (recv && (op.flags_ & MSG_PEEK) != 0) return;  // peeked bytes stay: the buffer is not drained
  if (!recv && op.kind_ != OpKind::send) return;
  if (s.stream < 0) {  // once per file
    int type = 0;
    socklen_t len = sizeof(type);
    s.stream =
        ::getsockopt(op.fd_, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM ? 1 : 0;
  }
  if (s.stream == 0) return;
  if (recv) {
    s.read_ready = false;
    s.read_guessed = true;
  } else {
    s.write_ready = false;
    s.write_guessed = true;
  }
}

void EpollBackend::expire_timers(std::int64_t now) noexcept {
  while (Operation* op = timers_.top()) {
    if (TimerHeap::expiry(*op) > now) return;
    unlink(*op);
    complete(*op, op->kind_ == OpKind::timeout ? 0 : -ETIMEDOUT);
  }
}

int EpollBackend::wait_for_events(std::int64_t timeout_ns) noexcept {
  int n = -1;
  if (has_pwait2_) {  // nanosecond timeouts (Linux 5.11)
    timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    n = ::epoll_pwait2(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                       timeout_ns < 0 ? nullptr : &ts, nullptr);
    // Not there (ENOSYS), or refused by a seccomp filter that answers EPERM for calls it does
    // not know: epoll_wait does the same job (a real error would fail it too).
    if (n < 0 && errno != EINTR) has_pwait2_ = false;
  }
  if (!has_pwait2_) {
    // Round up: waking early would spin until the timer is due. Clamp: int milliseconds.
    const std::int64_t ms64 = timeout_ns / 1'000'000 + (timeout_ns % 1'000'000 != 0 ? 1 : 0);
    const int ms = timeout_ns < 0 ? -1 : static_cast<int>(std::min<std::int64_t>(ms64, INT_MAX));
    n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), ms);
  }
  return n;
}

std::size_t EpollBackend::run_once(std::int64_t timeout_ns) noexcept {
  std::int64_t now = checks_count_ > 0 || !timers_.empty() ? monotonic_now_ns() : turn_now_;
  if (checks_count_ > 0) run_due_checks(now);  // ends ops only if a check fails: then no wait
  if (!done_.empty()) timeout_ns = 0;
  if (Operation* first = timers_.top()) {
    const std::int64_t until = std::max<std::int64_t>(0, TimerHeap::expiry(*first) - now);
    if (timeout_ns < 0 || until < timeout_ns) timeout_ns = until;
  }
  // The wait ends with events, at the caller's timeout (or the first timer), or for a due
  // registration check: the check runs within this turn, and the wait goes on for the time left
  // (the check's re-arm reports the fd's current readiness, which usually ends it: the data a
  // stale registration hid is then delivered in this run_once, not the next).
  const std::int64_t wait_end = timeout_ns < 0 ? INT64_MAX : expiry_after(now, timeout_ns);
  int n = 0;
  for (;;) {
    const std::int64_t due = checks_count_ > 0 ? next_check_due() : INT64_MAX;
    const bool for_check = due < wait_end;
    const std::int64_t end = for_check ? due : wait_end;
    n = wait_for_events(end == INT64_MAX ? -1 : std::max<std::int64_t>(0, end - now));
    now = turn_now_ = monotonic_now_ns();  // what the waits begun in this turn count from
    if (!for_check || n != 0) break;       // events, EINTR, or the caller's time is up
    if (run_due_checks(now) && !done_.empty()) break;  // a failed check ended ops
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
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) fds_[fd].hung_up = true;
    if (ev & EPOLLPRI) fds_[fd].urgent = true;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      fds_[fd].read_ready = true;
      fds_[fd].read_guessed = false;
      drain(fd, false);
    }
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      fds_[fd].write_ready = true;
      fds_[fd].write_guessed = false;
      drain(fd, true);
    }
  }
  if (!timers_.empty()) expire_timers(monotonic_now_ns());

  // Callbacks run last, each round from a detached list. Ops they complete inline (a send that
  // fit in the socket buffer) are delivered in a further round of this turn, not after another
  // epoll_wait; the round limit keeps a callback that resubmits forever from starving IO.
  std::size_t delivered = inline_delivered_;
  inline_delivered_ = 0;
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
