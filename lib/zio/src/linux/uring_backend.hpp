// io_uring backend. Every Operation maps to one SQE whose user_data is the Operation's address.
// Submission and reaping share one io_uring_enter per run_once. Deadlines live in a user-space
// timer heap, not in the kernel: most ops finish long before theirs, and a LINK_TIMEOUT would
// cost every one of them a second SQE, a second CQE and a kernel hrtimer armed and cancelled; the
// heap costs a push and a pop, and the kernel hears of a deadline only when it passes (an async
// cancel; the op then ends ETIMEDOUT). The wait in run_once never outlasts the earliest
// deadline. Reserved user_data values mark internal CQEs: kIgnored (cancel requests, whose
// outcome shows up on the target op), kWakeTag (the eventfd
// read that lets wake() interrupt a waiting loop) and kCloseTag (close_fd's IORING_OP_CLOSE). A
// further tag marks a splice's readiness wait: the kernel does not poll-retry splice, so on EAGAIN
// the backend polls the side that is not ready (POLL_ADD, user_data = op address | kPollTag) and
// then resubmits the splice; the op completes only with bytes or a real error.
//
// Files: uring_backend.cpp (setup, submission, reaping), uring_multishot.cpp (multishot accept and
// recv, native or emulated, and kernel buffer rings), uring_close.cpp (close_fd).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"
#include "linux/fd_op_index.hpp"
#include "linux/timer_heap.hpp"

namespace zap::zio::detail {

constexpr std::uint64_t kIgnored = 0;
constexpr std::uint64_t kWakeTag = 1;       // no Operation lives at address 1
constexpr std::uint64_t kPollTag = 2;       // low bit of an (8-aligned) Operation address
constexpr std::uint64_t kCancelAllTag = 3;  // ~Loop's CANCEL_ANY: not an op address, nor tagged
constexpr std::uint64_t kCloseTag = 5;      // close_fd's IORING_OP_CLOSE
static_assert(alignof(Operation) >= 8, "tags need the low three bits of an op address");

class UringBackend final : public Backend {
 public:
  explicit UringBackend(int wake_fd) noexcept : Backend(BackendKind::io_uring, wake_fd) {}
  ~UringBackend() override;

  std::error_code init(const LoopOptions& options);

  void submit(Operation& op) noexcept override;
  void cancel(Operation& op) noexcept override;
  void close_fd(int fd) noexcept override;
  std::error_code register_buffer_ring(BufferRing& ring, std::uint16_t group) noexcept override;
  void unregister_buffer_ring(BufferRing& ring) noexcept override;
  std::size_t run_once(std::int64_t timeout_ns) noexcept override;

 private:
  // How a reaped CQE is handed to its op's callback.
  enum class Delivery : std::uint8_t {
    final,           // the op's last completion: idle afterwards
    more,            // kernel multishot, IORING_CQE_F_MORE: the SQE stays armed
    rearm,           // emulated multishot: deliver with more(), then re-arm (or end if cancelled)
    rearm_silently,  // emulated recv between readiness and data: no callback, just re-arm
  };
  struct Item {
    Operation* op;
    std::int64_t res;
    int buffer;  // recv_multishot buffer id, or -1
    Delivery how;
  };

  // Ensures `n` free SQEs, submitting what is queued if the SQ is full. False if the kernel
  // cannot take more now (e.g. -EBUSY while completions overflow); the caller backlogs.
  bool reserve(unsigned n) noexcept {
    if (io_uring_sq_space_left(&ring_) >= n) return true;
    io_uring_submit(&ring_);
    // SQPOLL: submitting only wakes the kernel's thread; room appears as it takes the SQEs
    // (a backlogged op would wait for an unrelated completion that may never come). Not while
    // completions wait to be reaped: older kernels (before ~5.15) stop that thread while the CQ
    // overflows, and only this thread reaps -- the backlog then takes the op, and run_once, which
    // does not block while completions wait, moves it on.
    while (sqpoll_ && io_uring_sq_space_left(&ring_) < n) {
      if (io_uring_cq_ready(&ring_) > 0 || io_uring_cq_has_overflow(&ring_)) break;
      if (io_uring_sqring_wait(&ring_) < 0) break;
    }
    return io_uring_sq_space_left(&ring_) >= n;
  }

  void finish_locally(Operation& op, std::int64_t res) noexcept {
    op.result_ = res;
    op.state_ = Operation::State::done;
    done_.push_back(op);
  }
  // Ends an op that has no SQE in the kernel (state queued: in the backlog, or a splice waiting for
  // an SQE for its readiness poll) with `res`, delivered next turn.
  void finish_queued(Operation& op, std::int64_t res) noexcept {
    (op.polling_ ? splice_retry_ : backlog_).remove(op);
    op.polling_ = false;
    finish_locally(op, res);
  }
  // The last delivery of an op: it leaves the fd index and the deadline heap, then its callback
  // runs.
  std::size_t deliver_final(Operation& op, std::int64_t res, int buffer = -1) noexcept {
    fd_ops_.remove(op);
    deadlines_.remove(op);
    return deliver(op, res, buffer);
  }
  // Into the ring now, or into the backlog behind older ops.
  void enqueue(Operation& op) noexcept {
    op.state_ = Operation::State::queued;
    if (backlog_.empty() && reserve(1))
      prep(op);
    else
      backlog_.push_back(op);
  }

  void prep(Operation& op) noexcept;
  // The splice said EAGAIN: wait (POLL_ADD) for the side that is not ready, then splice again.
  void prep_poll(Operation& op) noexcept;
  // At submit: the op's deadline into the heap. A splice retried after a poll keeps it.
  void arm_deadline(Operation& op);
  // Cancels every op whose deadline is at or before `now`; true if any was cancelled.
  bool expire_deadlines(std::int64_t now) noexcept;
  // The time run_once may wait from `now`: `timeout_ns` (< 0: forever), shortened to the earliest
  // deadline.
  std::int64_t bound_by_deadlines(std::int64_t timeout_ns, std::int64_t now) const noexcept;
  void retry_splice_after_poll(Operation& op) noexcept;
  void poll_then_retry_splice(Operation& op) noexcept;
  // An async cancel for an in-flight op: now, or once an SQE is free. An op whose deadline
  // already queued one is not queued twice (the lists are intrusive).
  void request_kernel_cancel(Operation& op) noexcept {
    if (reserve(1))
      prep_cancel(op);
    else if (op.prev_ == nullptr && op.next_ == nullptr && cancel_backlog_.head != &op)
      cancel_backlog_.push_back(op);
  }
  void prep_cancel(Operation& op) noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op) | (op.polling_ ? kPollTag : 0),
                           0);
    io_uring_sqe_set_data64(sqe, kIgnored);
  }
  void arm_wake() noexcept;
  void on_wake(std::int64_t res) noexcept;
  std::size_t reap() noexcept;
  std::size_t deliver_item(const Item& item) noexcept;
  void drain_kernel() noexcept;

  // uring_multishot.cpp
  void detect_multishot(const LoopOptions& options, const char* release, std::string& reason);
  // Before its SQE: whether the op runs emulated. False (op finished locally) if it cannot run.
  bool prepare_multishot(Operation& op) noexcept;
  void prep_multishot(Operation& op, io_uring_sqe* sqe) noexcept;
  Item classify_multishot(Operation& op, std::int64_t res, std::uint32_t cqe_flags) noexcept;
  void after_emulated_more(Operation& op) noexcept;
  // uring_close.cpp: close(2) once every SQE naming fd has been issued.
  void close_after_issued(int fd) noexcept;
  // Closes (or queues an IORING_OP_CLOSE for) the fds that close_fd had to defer, once the SQ
  // allows it. run_once calls it after each submission; ~UringBackend closes what is left.
  void flush_deferred_closes() noexcept;

  io_uring ring_{};
  OpList backlog_;         // submitted, no SQE yet (SQ full): state queued
  OpList cancel_backlog_;  // in flight, cancel() asked but no SQE was free for the cancel
  OpList done_;            // finished without the kernel: state done, result in result_
  OpList splice_retry_;    // splice said EAGAIN, no SQE yet for its POLL_ADD: queued, polling_
  FdOpIndex fd_ops_;       // busy ops by fd, for close_fd
  TimerHeap deadlines_;    // busy ops with a deadline not yet passed, earliest first
  // fds close_fd could not release yet: SQEs naming them were still unissued and no SQE was free
  // for an ordered IORING_OP_CLOSE (or the kernel has none). Rare; reserved at start.
  std::vector<int> deferred_closes_;
  // SQEs whose CQE must still be reaped before the ring (and the buffers it points into) may go:
  // op SQEs (incl. a splice's POLL_ADD and an armed multishot), close_fd's CLOSE and the wake
  // read. Not cancels.
  std::size_t in_kernel_ = 0;
  bool supported_[IORING_OP_LAST] = {};
  bool sqpoll_ = false;
  bool wake_armed_ = false;
  bool wake_by_poll_ = false;  // the eventfd read failed once with EAGAIN: poll, then ::read
  bool wake_broken_ = false;   // the eventfd failed otherwise: wake() no longer interrupts waits
  bool initialized_ = false;
};

}  // namespace zap::zio::detail
