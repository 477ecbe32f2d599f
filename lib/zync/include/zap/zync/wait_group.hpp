// WaitGroup: waits for a set of tasks to finish, like Go's sync.WaitGroup.
//
//   zap::zync::WaitGroup wg;
//   for (auto& job : jobs) {
//     wg.add(1);
//     pool.submit([&] { run(job); wg.done(); });
//   }
//   wg.wait();  // every run(job) happens-before this returns
//
// add(n) before starting the work, done() when a piece finishes, wait() until the count is zero.
// done() makes a syscall only for the last piece and only if a thread sleeps in wait(). A waiter
// may destroy the WaitGroup as soon as wait() returns, even while the last done() is still
// returning. As in Go: add() for a new round must happen after every wait() of the previous round
// returned, and the count must not go below zero (up to 2^31 - 1 pieces at once).
//
// Thread-safety: all members are thread-safe.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

#include "zap/zync/futex.hpp"

namespace zap::zync {

class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(std::uint32_t n = 1) noexcept {
    // relaxed: add() publishes nothing; it happens-before the matching done() by the caller's own
    // hand-off of the work (thread start, queue push), which carries the ordering.
    [[maybe_unused]] const std::uint32_t before = state_.fetch_add(n, std::memory_order_relaxed);
    assert((before & kCountMask) + n <= kCountMask);
  }

  void done() noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    for (;;) {
      assert((state & kCountMask) != 0);
      // The last done() clears the waiters bit in the same step, so that after this one atomic
      // operation we never touch *this again (a waiter may return and destroy the WaitGroup at
      // once); futex_wake_all() below only passes the address to the kernel.
      const std::uint32_t next = (state & kCountMask) == 1 ? 0 : state - 1;
      // release on success: heads a release sequence (the later done()s are RMWs continuing it),
      // so the work before every done() happens-before a wait() that acquire-loads the final zero.
      // relaxed on failure: we retry with the new value.
      if (state_.compare_exchange_weak(state, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    if (state == (kWaitersBit | 1)) futex_wake_all(state_);
  }

  void wait() noexcept {
    // acquire: synchronizes with the done() calls through their release sequence.
    std::uint32_t state = state_.load(std::memory_order_acquire);
    while ((state & kCountMask) != 0) {
      if ((state & kWaitersBit) == 0) {
        // relaxed (both): only asks the last done() to wake us; the acquire load below syncs.
        if (!state_.compare_exchange_weak(state, state | kWaitersBit, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
          continue;
        }
        state |= kWaitersBit;
      }
      futex_wait(state_, state);
      // acquire: as above.
      state = state_.load(std::memory_order_acquire);
    }
  }

  // The number of pieces not yet done. Racy by nature: for tests and diagnostics.
  std::uint32_t count() const noexcept {
    // acquire: a zero seen here means the same as wait() returning.
    return state_.load(std::memory_order_acquire) & kCountMask;
  }

 private:
  static constexpr std::uint32_t kWaitersBit = 1u << 31;
  static constexpr std::uint32_t kCountMask = kWaitersBit - 1;

  std::atomic<std::uint32_t> state_{0};  // count of pending pieces | kWaitersBit
};

}  // namespace zap::zync
