// io_uring backend: setup, submission, reaping. See uring_backend.hpp for the model.
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <string>

#include "linux/deadline_clock.hpp"
#include "linux/uring_backend.hpp"
#include "zap/zio/address.hpp"

namespace zap::zio::detail {
namespace {

constexpr unsigned kReapBatch = 64;

static_assert(sizeof(__kernel_timespec) == 2 * sizeof(std::int64_t), "Operation::ts_ layout");

void set_timespec(std::int64_t* ts, std::int64_t ns) {
  ts[0] = ns / 1'000'000'000;
  ts[1] = ns % 1'000'000'000;
}

// The opcode a kind needs; the probe tells whether the running kernel has it.
int opcode_of(OpKind kind) {
  switch (kind) {
    case OpKind::nop:
      return IORING_OP_NOP;
    case OpKind::read:
      return IORING_OP_READ;
    case OpKind::write:
      return IORING_OP_WRITE;
    case OpKind::readv:
      return IORING_OP_READV;
    case OpKind::writev:
      return IORING_OP_WRITEV;
    case OpKind::recv:
      return IORING_OP_RECV;
    case OpKind::send:
      return IORING_OP_SEND;
    case OpKind::recvmsg:
      return IORING_OP_RECVMSG;
    case OpKind::sendmsg:
      return IORING_OP_SENDMSG;
    case OpKind::accept:
      return IORING_OP_ACCEPT;
    case OpKind::connect:
      return IORING_OP_CONNECT;
    case OpKind::shutdown:
      return IORING_OP_SHUTDOWN;
    case OpKind::timeout:
      return IORING_OP_TIMEOUT;
    case OpKind::fsync:
      return IORING_OP_FSYNC;
    case OpKind::openat:
      return IORING_OP_OPENAT;
    case OpKind::close:
      return IORING_OP_CLOSE;
    case OpKind::statx:
      return IORING_OP_STATX;
    case OpKind::splice:
      return IORING_OP_SPLICE;
    case OpKind::accept_multishot:
      return IORING_OP_ACCEPT;
    case OpKind::recv_multishot:
      return IORING_OP_RECV;
    case OpKind::poll:
      return IORING_OP_POLL_ADD;
    case OpKind::none:
      break;
  }
  return -1;
}

}  // namespace

UringBackend::~UringBackend() {
  if (!initialized_) return;
  drain_kernel();
  io_uring_queue_exit(&ring_);
  // The ring is gone, and with it every unissued SQE: the numbers can be released now.
  for (const int fd : deferred_closes_) ::close(fd);
}

void UringBackend::submit(Operation& op) noexcept {
  ++pending_;
  op.state_ = Operation::State::queued;
  op.cancel_requested_ = false;
  op.polling_ = false;
  op.rearm_ = false;
  op.recv_wait_ = false;
  op.deadline_passed_ = false;
  op.next_ = op.prev_ = nullptr;
  // Not in this loop's deadline heap yet -- whatever an abandoned op kept from a destroyed loop
  // (its old heap position would remove another op's entry, or index an empty heap).
  op.heap_index_ = 0;
  if (op.kind_ == OpKind::timeout) op.timeout_ns_ = 0;      // a timer's deadline is itself
  if (!fd_ops_.add(op)) return finish_locally(op, -EBADF);  // no such fd can be open
  if (op.is_multishot()) {
    if (const int err = multishot_misuse(op); err != 0) return finish_locally(op, -err);
  }
  if (op.kind_ == OpKind::poll && !op.valid_poll()) return finish_locally(op, -EINVAL);
  arm_deadline(op);  // from submission, also while the op waits in the backlog for an SQE
  enqueue(op);       // FIFO: once something waits in the backlog, newer ops queue behind it
}

void UringBackend::cancel(Operation& op) noexcept {
  if (op.state_ == Operation::State::queued) {  // never reached the kernel (or between retries)
    op.cancel_requested_ = true;
    finish_queued(op, -ECANCELED);
  } else if (op.state_ == Operation::State::in_flight && !op.cancel_requested_) {
    op.cancel_requested_ = true;
    // Emulated multishot inside its callback: no SQE to cancel; after_emulated_more() ends it.
    if (op.rearm_) return;
    request_kernel_cancel(op);
  }
  // done or idle: the result is already decided; nothing to do.
}

void UringBackend::arm_wake() noexcept {
  if (wake_armed_ || wake_broken_ || !reserve(1)) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (wake_by_poll_)
    io_uring_prep_poll_add(sqe, wake_fd_, POLLIN);
  else
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
  wake_armed_ = true;
  ++in_kernel_;
}

std::error_code UringBackend::init(const LoopOptions& options) {
  deferred_closes_.reserve(16);         // close_fd must not allocate in the common deferred case
  deadlines_.reserve(options.entries);  // grows (rarely) only past this many ops with deadlines
  io_uring_params params{};
  // COOP_TASKRUN: completions become task work run only when this thread enters the kernel;
  // TASKRUN_FLAG makes the kernel say so (IORING_SQ_TASKRUN), so a run_once(0) with nothing to
  // submit still enters (io_uring_get_events) instead of missing finished IO. Both 5.19.
  sqpoll_ = options.sqpoll;
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  params.cq_entries = options.entries * 4;  // room for multishot bursts before overflow
  if (options.sqpoll) {
    params.flags |= IORING_SETUP_SQPOLL;
    params.sq_thread_idle = options.sqpoll_idle_ms;
  }
  int rc = io_uring_queue_init_params(options.entries, &ring_, &params);
  if (rc == -EINVAL) {  // older kernel: no COOP_TASKRUN / TASKRUN_FLAG (5.19)
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE | (options.sqpoll ? IORING_SETUP_SQPOLL : 0u);
    params.cq_entries = options.entries * 4;
    params.sq_thread_idle = options.sqpoll_idle_ms;
    rc = io_uring_queue_init_params(options.entries, &ring_, &params);
  }
  if (rc < 0) return {-rc, std::system_category()};
  initialized_ = true;

  std::string missing;
  if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
    for (int op = 0; op < IORING_OP_LAST; ++op)
      supported_[op] = io_uring_opcode_supported(probe, op);
    io_uring_free_probe(probe);
  }
  for (const int op : options.io_uring_disabled_opcodes)
    if (op >= 0 && op < IORING_OP_LAST) supported_[op] = false;
  for (int k = static_cast<int>(OpKind::nop); k <= static_cast<int>(OpKind::poll); ++k) {
    const int code = opcode_of(static_cast<OpKind>(k));
    if (code >= 0 && !supported_[code]) missing += " " + std::to_string(code);
  }
  utsname uts{};
  ::uname(&uts);
  std::string reason = std::string("kernel ") + uts.release;
  reason += (params.features & IORING_FEAT_NODROP) ? ", nodrop" : ", CQ may drop on overflow";
  if (options.sqpoll) reason += ", sqpoll";
  if (!missing.empty()) reason += ", unsupported opcodes:" + missing + " (fallbacks or EOPNOTSUPP)";
  detect_multishot(options, uts.release, reason);
  reason_ = reason;
  return {};
}

void UringBackend::prep(Operation& op) noexcept {
  const int code = opcode_of(op.kind_);
  // Degrade per feature: recv/send fall back to read/write (same semantics on a connected
  // socket, minus MSG_* flags); anything else the kernel lacks completes with EOPNOTSUPP.
  OpKind kind = op.kind_;
  if (kind == OpKind::recv && !supported_[IORING_OP_RECV]) kind = OpKind::read;
  if (kind == OpKind::send && !supported_[IORING_OP_SEND]) kind = OpKind::write;
  if (code < 0 || !supported_[opcode_of(kind)]) {
    finish_locally(op, code < 0 ? -EINVAL : -EOPNOTSUPP);
    return;
  }
  if (op.is_multishot() && !prepare_multishot(op)) return;  // e.g. ENOBUFS, finished locally
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  switch (kind) {
    case OpKind::nop:
      io_uring_prep_nop(sqe);
      break;
    case OpKind::read:
      io_uring_prep_read(sqe, op.fd_, op.addr_, op.len_, op.offset_);
      break;
    case OpKind::write:
      io_uring_prep_write(sqe, op.fd_, op.addr_, op.len_, op.offset_);
      break;
    case OpKind::readv:
      io_uring_prep_readv(sqe, op.fd_, static_cast<const iovec*>(op.addr_), op.len_, op.offset_);
      break;
    case OpKind::writev:
      io_uring_prep_writev(sqe, op.fd_, static_cast<const iovec*>(op.addr_), op.len_, op.offset_);
      break;
    case OpKind::recv:
      io_uring_prep_recv(sqe, op.fd_, op.addr_, op.len_, static_cast<int>(op.flags_));
      break;
    case OpKind::send:
      io_uring_prep_send(sqe, op.fd_, op.addr_, op.len_,
                         static_cast<int>(op.flags_) | MSG_NOSIGNAL);
      break;
    case OpKind::recvmsg:
      io_uring_prep_recvmsg(sqe, op.fd_, static_cast<msghdr*>(op.addr_), op.flags_);
      break;
    case OpKind::sendmsg:
      io_uring_prep_sendmsg(sqe, op.fd_, static_cast<const msghdr*>(op.addr_),
                            op.flags_ | MSG_NOSIGNAL);
      break;
    case OpKind::accept: {
      auto* peer = static_cast<SocketAddress*>(op.addr_);
      if (peer != nullptr) *peer->size_ptr() = peer->capacity();
      io_uring_prep_accept(sqe, op.fd_, peer ? peer->data() : nullptr,
                           peer ? peer->size_ptr() : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    }
    case OpKind::connect: {
      const auto* to = static_cast<const SocketAddress*>(op.addr_);
      io_uring_prep_connect(sqe, op.fd_, to->data(), to->size());
      break;
    }
    case OpKind::shutdown:
      io_uring_prep_shutdown(sqe, op.fd_, static_cast<int>(op.flags_));
      break;
    case OpKind::timeout:
      set_timespec(op.ts_, static_cast<std::int64_t>(op.offset_));
      io_uring_prep_timeout(sqe, reinterpret_cast<__kernel_timespec*>(op.ts_), 0, 0);
      break;
    case OpKind::fsync:
      io_uring_prep_fsync(sqe, op.fd_, op.flags_ ? IORING_FSYNC_DATASYNC : 0);
      break;
    case OpKind::openat:
      io_uring_prep_openat(sqe, op.fd_, static_cast<const char*>(op.addr_),
                           static_cast<int>(op.flags_) | O_CLOEXEC, op.len_);
      break;
    case OpKind::close:
      io_uring_prep_close(sqe, op.fd_);
      break;
    case OpKind::statx:
      io_uring_prep_statx(sqe, op.fd_, static_cast<const char*>(op.addr_),
                          static_cast<int>(op.flags_), op.len_,
                          static_cast<struct statx*>(op.aux_));
      break;
    case OpKind::splice:
      io_uring_prep_splice(sqe, op.fd_, static_cast<std::int64_t>(op.offset_), op.fd2_,
                           static_cast<std::int64_t>(op.offset2_), op.len_, op.flags_);
      break;
    case OpKind::accept_multishot:
    case OpKind::recv_multishot:
      prep_multishot(op, sqe);
      break;
    case OpKind::poll:
      io_uring_prep_poll_add(sqe, op.fd_, op.flags_);
      break;
    case OpKind::none:
      break;
  }
  io_uring_sqe_set_data(sqe, &op);
  op.state_ = Operation::State::in_flight;
  ++in_kernel_;
}

void UringBackend::arm_deadline(Operation& op) {
  if (op.timeout_ns_ <= 0) return;
  deadlines_.push(op, deadline_after(op.timeout_ns_));
}

bool UringBackend::expire_deadlines(std::int64_t now) noexcept {
  bool any = false;
  while (Operation* op = deadlines_.top()) {
    if (TimerHeap::expiry(*op) > now) break;
    deadlines_.remove(*op);
    any = true;
    op->deadline_passed_ = true;
    if (op->state_ == Operation::State::queued) {  // in a backlog (SQ full): no SQE to cancel
      finish_queued(*op, -ETIMEDOUT);
    } else if (op->state_ == Operation::State::in_flight && !op->cancel_requested_) {
      // Its CQE says ECANCELED (or the real result, if that won the race); reap() turns the
      // ECANCELED into ETIMEDOUT because the deadline passed and cancel() was not asked.
      request_kernel_cancel(*op);
    }
  }
  return any;
}

std::int64_t UringBackend::bound_by_deadlines(std::int64_t timeout_ns,
                                              std::int64_t now) const noexcept {
  const Operation* first = deadlines_.top();
  if (first == nullptr) return timeout_ns;
  const std::int64_t until = std::max<std::int64_t>(0, TimerHeap::expiry(*first) - now);
  return timeout_ns < 0 || until < timeout_ns ? until : timeout_ns;
}

void UringBackend::prep_poll(Operation& op) noexcept {
  const bool output = splice_waits_for_output(op.fd_, op.fd2_);
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_poll_add(sqe, output ? op.fd2_ : op.fd_, output ? POLLOUT : POLLIN);
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op) | kPollTag);
  op.state_ = Operation::State::in_flight;
  op.polling_ = true;
  ++in_kernel_;
  // The op's deadline was armed with its first SQE and still runs.
}

// Called while reaping: the op stays busy, its callback does not run.
void UringBackend::poll_then_retry_splice(Operation& op) noexcept {
  op.state_ = Operation::State::queued;
  op.polling_ = true;
  if (splice_retry_.empty() && reserve(1))
    prep_poll(op);
  else
    splice_retry_.push_back(op);
}

void UringBackend::retry_splice_after_poll(Operation& op) noexcept {
  op.state_ = Operation::State::queued;
  op.polling_ = false;
  if (backlog_.empty() && reserve(1))
    prep(op);
  else
    backlog_.push_back(op);
}

void UringBackend::on_wake(std::int64_t res) noexcept {
  wake_armed_ = false;
  if (wake_by_poll_ && res > 0) {  // readable: empty the counter here
    while (::read(wake_fd_, &wake_buf_, sizeof(wake_buf_)) < 0 && errno == EINTR) {
    }
  } else if (res == -EAGAIN || res == -EINTR) {
    // Re-arming the same read could complete at once, every turn: a busy loop. Poll instead.
    wake_by_poll_ = true;
  } else if (res < 0 && res != -ECANCELED) {
    wake_broken_ = true;  // EBADF, EINVAL, ...: never re-arm a read that can only fail
  }
  consume_wake();
}

// Nothing may touch an Operation or its buffers after ~Loop, but io_uring_queue_exit returns
// before the kernel has finished cancelling. So: cancel everything, and reap until every SQE that
// points into user memory has its CQE. Callbacks do not run (the Loop is going away). An op the
// kernel cannot interrupt (a read stuck on a hung file system) delays this until it ends.
void UringBackend::drain_kernel() noexcept {
  bool cancel_any = supported_[IORING_OP_ASYNC_CANCEL];
  while (in_kernel_ > 0) {
    if (cancel_any && reserve(1)) {  // again each round: catches ops that were not yet armed
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, kCancelAllTag);
    }
    io_uring_submit(&ring_);
    __kernel_timespec ts{};
    ts.tv_nsec = 100'000'000;
    io_uring_cqe* cqe = nullptr;
    io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t data = cqe->user_data;
      if (data == kCancelAllTag) {
        // Before 5.19 there is no CANCEL_ANY: nothing cancels, so do not wait for ops that may
        // never end; leave as before (the kernel cancels them after queue_exit).
        if (cqe->res == -EINVAL) cancel_any = false;
        continue;
      }
      if (data == kIgnored || data == LIBURING_UDATA_TIMEOUT) continue;
      if (!(cqe->flags & IORING_CQE_F_MORE)) --in_kernel_;  // a multishot's SQE lives on
    }
    io_uring_cq_advance(&ring_, seen);
    if (!cancel_any) break;
  }
}

std::size_t UringBackend::reap() noexcept {
  std::size_t delivered = 0;
  io_uring_cqe* cqes[kReapBatch];
  Item items[kReapBatch];
  for (;;) {
    const unsigned got = io_uring_peek_batch_cqe(&ring_, cqes, kReapBatch);
    if (got == 0) break;
    unsigned count = 0;
    for (unsigned i = 0; i < got; ++i) {
      const std::uint64_t data = cqes[i]->user_data;
      if (data == kIgnored || data == LIBURING_UDATA_TIMEOUT) continue;
      const std::uint32_t flags = cqes[i]->flags;
      if (!(flags & IORING_CQE_F_MORE)) --in_kernel_;  // a multishot's SQE lives on
      std::int64_t res = cqes[i]->res;
      if (data == kWakeTag) {
        on_wake(res);
        continue;
      }
      if (data == kCloseTag) continue;  // close_fd's close: nobody to tell
      const bool poll_done = (data & kPollTag) != 0;
      auto* op = reinterpret_cast<Operation*>(data & ~kPollTag);
      if (op->is_multishot()) {
        // Items of one op keep their order; only its last one ends it (see classify_multishot).
        items[count++] = classify_multishot(*op, res, flags);
        continue;
      }
      if (op->prev_ != nullptr || op->next_ != nullptr || cancel_backlog_.head == op) {
        cancel_backlog_.remove(*op);
      }
      if (op->kind_ == OpKind::splice) {
        // The kernel does not poll-retry splice: a non-blocking end gives EAGAIN at once. Wait for
        // readiness and splice again, so the op completes only with bytes or a real error.
        if (poll_done) {
          op->polling_ = false;
          if (res >= 0 && !op->cancel_requested_ && !op->deadline_passed_) {
            retry_splice_after_poll(*op);
            continue;
          }
          if (res >= 0) res = -ECANCELED;  // revents are not bytes
        } else if (res == -EAGAIN) {
          if (op->cancel_requested_ || op->deadline_passed_) {
            res = -ECANCELED;
          } else if (supported_[IORING_OP_POLL_ADD]) {
            poll_then_retry_splice(*op);
            continue;
          }
        }
      }
      // An op that io-wq was running when it was cancelled (a splice between blocking pipes)
      // ends with EINTR or with one of the kernel's own restart codes (ERESTARTSYS..516), which
      // must not reach the caller: it asked for ECANCELED (or ETIMEDOUT, below).
      if (res <= -512 && res >= -516) res = -EINTR;
      if (res == -EINTR && (op->cancel_requested_ || op->deadline_passed_)) res = -ECANCELED;
      // The deadline's cancel: ETIMEDOUT.
      if (res == -ECANCELED && op->deadline_passed_ && !op->cancel_requested_) res = -ETIMEDOUT;
      // poll(2)'s answer, as the epoll backend gives it: the events asked for and those always
      // reported. (The kernel's own mask may carry more, such as POLLRDHUP beside a FIN's
      // POLLIN, which a caller that did not ask for it would not look for.)
      if (op->kind_ == OpKind::poll && res > 0) res &= op->flags_ | POLLERR | POLLHUP | POLLNVAL;
      // Mark before any callback runs: a callback that cancel()s an op of this batch must
      // not send a cancel for an address that may be reused by then.
      op->state_ = Operation::State::done;
      items[count++] = {op, res, -1, Delivery::final};
    }
    // Release the CQ slots before the callbacks: they may submit, and the kernel may post more.
    io_uring_cq_advance(&ring_, got);
    for (unsigned i = 0; i < count; ++i) delivered += deliver_item(items[i]);
  }
  return delivered;
}

std::size_t UringBackend::deliver_item(const Item& item) noexcept {
  Operation& op = *item.op;
  switch (item.how) {
    case Delivery::final:
      return deliver_final(op, item.res, item.buffer);
    case Delivery::more:
      return deliver_more(op, item.res, item.buffer);
    case Delivery::rearm:
      deliver_more(op, item.res, item.buffer);
      after_emulated_more(op);
      return 1;
    case Delivery::rearm_silently:
      after_emulated_more(op);
      return 0;
  }
  return 0;
}

std::size_t UringBackend::run_once(std::int64_t timeout_ns) noexcept {
  // Move what waited for SQ space into the ring, in order.
  while (Operation* op = backlog_.head) {
    if (!reserve(1)) break;
    backlog_.remove(*op);
    prep(*op);
  }
  while (Operation* op = splice_retry_.head) {
    if (!reserve(1)) break;
    splice_retry_.remove(*op);
    prep_poll(*op);
  }
  while (Operation* op = cancel_backlog_.head) {
    if (!reserve(1)) break;
    cancel_backlog_.remove(*op);
    prep_cancel(*op);
  }
  if (!deadlines_.empty()) {
    const std::int64_t now = monotonic_now_ns();
    expire_deadlines(now);
    timeout_ns = bound_by_deadlines(timeout_ns, now);
  }
  arm_wake();

  const bool must_not_block = timeout_ns == 0 || !done_.empty() || io_uring_cq_ready(&ring_) > 0;
  int rc;
  if (must_not_block) {
    rc = 0;
    if (io_uring_sq_ready(&ring_) > 0) {
      rc = io_uring_submit(&ring_);
    } else if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) {
      rc = io_uring_get_events(&ring_);  // completions wait as task work: run it
    }
  } else if (timeout_ns < 0) {
    rc = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  // -ETIME: the wait timed out; -EINTR: a signal; -EBUSY/-EAGAIN: the CQ is overflowing or the
  // kernel is short of memory - reaping below makes room, and the next turn submits again.
  (void)rc;
  // A deadline that passed during the wait: its cancel goes out now, so that the op's ECANCELED
  // (-> ETIMEDOUT) is usually reaped in this same turn.
  if (!deadlines_.empty() && expire_deadlines(monotonic_now_ns())) io_uring_submit(&ring_);
  if (!deferred_closes_.empty()) flush_deferred_closes();

  std::size_t delivered = reap();
  // Ops finished locally during these callbacks wait for the next turn (which will not block).
  OpList finished = done_;
  done_ = OpList{};
  while (Operation* op = finished.pop_front()) delivered += deliver_final(*op, op->result_);
  return delivered;
}

std::unique_ptr<Backend> make_uring_backend(const LoopOptions& options, std::error_code& ec) {
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ec = {errno, std::system_category()};
    return nullptr;
  }
  auto backend = std::make_unique<UringBackend>(wake_fd);
  if ((ec = backend->init(options))) return nullptr;
  return backend;
}

}  // namespace zap::zio::detail
