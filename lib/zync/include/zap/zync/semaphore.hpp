// Semaphore: a counting semaphore on a futex.
//
//   zap::zync::Semaphore slots(4);  // at most 4 concurrent connections to the backend
//   slots.acquire();
//   talk_to_backend();
//   slots.release();
//
// acquire() takes one unit, sleeping while there is none; release(n) returns n units and wakes the
// sleepers (no syscall when nobody sleeps). Not fair: a thread arriving as units are released may
// take one before a sleeper wakes. At most 2^31 - 1 units. A thread may destroy the semaphore as
// soon as its acquire() returns, even while the release() that fed it is still returning.
// Memory: what a thread did before release() happens-before the return of the acquire() that
// takes one of its units.
//
// Thread-safety: all members are thread-safe.
#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <cstdint>

#include "zap/zync/futex.hpp"

namespace zap::zync {

class Semaphore {
 public:
  explicit constexpr Semaphore(std::uint32_t initial = 0) noexcept : state_(initial) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool try_acquire() noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    while ((state & kCountMask) != 0) {
      // acquire on success: synchronizes with the release in release() (and, through the release
      // sequence of RMWs on state_, with every earlier release()). relaxed on failure: we only
      // learn the new value. The waiters bit is kept: other sleepers may still need a wake.
      if (state_.compare_exchange_weak(state, state - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void acquire() noexcept {
    while (!try_acquire()) sleep_while_empty(nullptr);
  }

  // True if a unit was taken, false if `timeout` expired first.
  template <typename Rep, typename Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    return try_acquire_until_steady(deadline_after(timeout));
  }

  template <typename Clock, typename Duration>
  bool try_acquire_until(const std::chrono::time_point<Clock, Duration>& abs_time) noexcept {
    return try_acquire_until_steady(to_steady_deadline(abs_time));
  }

  void release(std::uint32_t n = 1) noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    for (;;) {
      assert((state & kCountMask) + n <= kCountMask);
      // Add the units and clear the waiters bit in one step: after it we never touch *this again
      // (an acquirer may take a unit and destroy the semaphore at once); the wake below only
      // passes the address to the kernel.
      // release on success: publishes our work to the acquire() that takes one of these units.
      // relaxed on failure: we retry with the new value.
      if (state_.compare_exchange_weak(state, (state & kCountMask) + n, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    // The bit does not say how many sleep, so wake them all; those that find no unit set the bit
    // again and go back to sleep.
    if ((state & kWaitersBit) != 0) futex_wake_all(state_);
  }

  // Units available now. Racy by nature: for tests and diagnostics.
  std::uint32_t available() const noexcept {
    // relaxed: a snapshot that orders nothing.
    return state_.load(std::memory_order_relaxed) & kCountMask;
  }

 private:
  static constexpr std::uint32_t kWaitersBit = 1u << 31;  // a thread may sleep: release() wakes
  static constexpr std::uint32_t kCountMask = kWaitersBit - 1;

  // Sleeps while no unit is available. Returns false once the deadline (if any) has passed.
  bool sleep_while_empty(const std::chrono::steady_clock::time_point* deadline) noexcept {
    // relaxed: we only decide whether to sleep; try_acquire() does the synchronizing.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    if ((state & kCountMask) != 0) return true;
    if (state == 0) {
      // relaxed (both): only asks release() to wake us. On failure a unit (or the bit) arrived:
      // go back and retry instead of sleeping.
      if (!state_.compare_exchange_strong(state, kWaitersBit, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        return true;
      }
    }
    // Sleeps only while the word is exactly "no units, waiters bit set"; a release() changes it.
    const FutexWaitResult result = deadline ? futex_wait_until(state_, kWaitersBit, *deadline)
                                            : futex_wait(state_, kWaitersBit);
    return result != FutexWaitResult::kTimedOut;
  }

  bool try_acquire_until_steady(std::chrono::steady_clock::time_point deadline) noexcept {
    while (!try_acquire()) {
      if (!sleep_while_empty(&deadline)) return try_acquire();
    }
    return true;
  }

  std::atomic<std::uint32_t> state_;  // units available | kWaitersBit; the futex word
};

}  // namespace zap::zync
