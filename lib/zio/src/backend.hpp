// Backend: the internal interface between Loop and a kernel mechanism (io_uring, epoll), as
// libuv's uv__io_* and Seastar's reactor_backend. Shared here: the wake eventfd and the
// delivery of a completion to its callback.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "zap/zio/buffer_ring.hpp"
#include "zap/zio/loop.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zio::detail {

// No process has an fd number this high open (RLIMIT_NOFILE is far lower in practice): an op
// naming one fails with EBADF at submit, so per-fd tables never grow to match a garbage number.
inline constexpr int kMaxFdNumber = 1 << 24;

class Backend {
 public:
  virtual ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual void submit(Operation& op) noexcept = 0;
  virtual void cancel(Operation& op) noexcept = 0;
  virtual void close_fd(int fd) noexcept = 0;
  // Default: a software ring (free-id FIFO) that the backend takes buffers from. io_uring
  // overrides it to register a kernel buffer ring when the kernel does multishot recv.
  virtual std::error_code register_buffer_ring(BufferRing& ring, std::uint16_t group) noexcept;
  virtual void unregister_buffer_ring(BufferRing& ring) noexcept;
  // timeout_ns < 0: wait without limit.
  virtual std::size_t run_once(std::int64_t timeout_ns) noexcept = 0;

  // Any thread. wake_pending_ turns a burst of wakes into one eventfd write: only the wake that
  // flips it false -> true writes. acq_rel: the release half publishes whatever the waker wrote
  // before wake() (e.g. a pushed task) to the loop thread, whose exchange(false) in
  // consume_wake() acquires it.
  void wake() noexcept;
  std::atomic<bool> stop_requested{false};

  [[nodiscard]] BackendKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }
  [[nodiscard]] LoopFeatures features() const noexcept { return features_; }
  void set_reason(std::string reason) { reason_ = std::move(reason); }

 protected:
  Backend(BackendKind kind, int wake_fd) noexcept : kind_(kind), wake_fd_(wake_fd) {}

  // Loop thread, after the eventfd was read: re-arms wake(). The exchange (not a store) reads the
  // latest wake's true and so acquires its release, making the waker's prior writes visible to
  // the runtime when it checks its queues after run_once returns.
  void consume_wake() noexcept { wake_pending_.exchange(false, std::memory_order_acq_rel); }

  // Runs op's callback with its final result. Translates the kernel's words into the API's:
  // a timer's ETIME is success; a deadline's ECANCELED (not asked for by cancel()) is ETIMEDOUT.
  // `buffer` >= 0: the completion filled that buffer of the op's BufferRing (recv_multishot).
  std::size_t deliver(Operation& op, std::int64_t res, int buffer = -1) noexcept {
    if (op.kind_ == OpKind::timeout && res == -62 /* ETIME */) res = 0;
    if (res == -125 /* ECANCELED */ && op.timeout_ns_ > 0 && !op.cancel_requested_)
      res = -110 /* ETIMEDOUT */;
    op.state_ = Operation::State::idle;
    op.cancel_requested_ = false;
    op.more_ = false;
    set_buffer(op, buffer);
    --pending_;
    op.callback_(op, Result(res));
    return 1;
  }
  // A multishot completion that is not the op's last: the op stays busy and pending, its state
  // untouched (the backend still owns it), and the callback sees more() == true.
  std::size_t deliver_more(Operation& op, std::int64_t res, int buffer = -1) noexcept {
    op.more_ = true;
    set_buffer(op, buffer);
    op.callback_(op, Result(res));
    op.more_ = false;
    return 1;
  }
  static void set_buffer(Operation& op, int buffer) noexcept {
    op.has_buffer_ = buffer >= 0;
    if (buffer >= 0) op.buffer_id_ = static_cast<std::uint16_t>(buffer);
  }
  // A multishot op that cannot be submitted as prepared: EINVAL for a deadline (multishot ops
  // have none) or a ring not registered with this loop; 0 if fine.
  int multishot_misuse(const Operation& op) const noexcept {
    if (op.timeout_ns_ > 0) return 22;  // EINVAL
    if (op.kind_ == OpKind::recv_multishot &&
        static_cast<const BufferRing*>(op.aux_)->backend_ != this)
      return 22;
    return 0;
  }
  static BufferRing& ring_of(const Operation& op) noexcept {
    return *static_cast<BufferRing*>(op.aux_);
  }

  // Buffer-ring bookkeeping shared by the backends (buffer_ring.cpp).
  static std::error_code validate(const BufferRing& ring) noexcept;
  std::error_code attach_software(BufferRing& ring, std::uint16_t group) noexcept;
  void detach(BufferRing& ring) noexcept;  // forget ring (software state freed)
  void detach_all() noexcept;              // the loop is going away: rings outlive it

  static bool is_state(const Operation& op, Operation::State s) noexcept { return op.state_ == s; }

  BackendKind kind_;
  int wake_fd_;  // eventfd, EFD_NONBLOCK|EFD_CLOEXEC, owned
  std::uint64_t wake_buf_ = 0;
  std::size_t pending_ = 0;  // user ops between submit and callback
  std::string reason_;
  LoopFeatures features_;
  BufferRing* rings_ = nullptr;  // registered rings, through BufferRing::next_registered_

 private:
  alignas(64) std::atomic<bool> wake_pending_{false};
};

// Intrusive FIFO of Operations through next_/prev_ (doubly linked: cancel unlinks in O(1)).
struct OpList {
  Operation* head = nullptr;
  Operation* tail = nullptr;

  [[nodiscard]] bool empty() const noexcept { return head == nullptr; }
  void push_back(Operation& op) noexcept;
  void remove(Operation& op) noexcept;
  Operation* pop_front() noexcept {
    Operation* op = head;
    if (op) remove(*op);
    return op;
  }
};

// After a splice said EAGAIN: true if its output is the side that is not ready (wait for POLLOUT
// on fd_out), false if its input is (wait for POLLIN on fd_in). One poll(2) that does not block.
// Both ready (it changed since the EAGAIN): true - the wait then ends at once and the splice runs.
bool splice_waits_for_output(int fd_in, int fd_out) noexcept;

// Factories; return nullptr and set ec (and `why`, for the reason line) on failure.
std::unique_ptr<Backend> make_uring_backend(const LoopOptions& options, std::error_code& ec);
std::unique_ptr<Backend> make_epoll_backend(const LoopOptions& options, std::error_code& ec);

}  // namespace zap::zio::detail
