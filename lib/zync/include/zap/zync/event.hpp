// Event: a manual-reset event; threads wait until it is set.
//
//   zap::zync::Event started;
//   std::thread worker([&] { init(); started.set(); run(); });
//   started.wait();  // init() happens-before this returns
//
// set() wakes every waiter and the event stays set (later wait() calls return at once) until
// reset(). set() makes a syscall only if a thread sleeps on the event.
// Memory: what a thread did before set() happens-before the return of a wait() that sees it set.
//
// Thread-safety: all members are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "zap/zync/futex.hpp"

namespace zap::zync {

class Event {
 public:
  constexpr Event() noexcept = default;
  explicit constexpr Event(bool set) noexcept : state_(set ? kSet : kUnset) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void set() noexcept {
    // release: publishes what we did before set() to waiters' acquire loads.
    if (state_.exchange(kSet, std::memory_order_release) == kUnsetWithWaiters) {
      futex_wake_all(state_);
    }
  }

  // Clears a set event. A reset() racing with set() is ordered by the word: one of them wins.
  void reset() noexcept {
    std::uint32_t expected = kSet;
    // relaxed: reset publishes nothing; a waiter that sees kUnset simply waits for a later set().
    // (kUnsetWithWaiters stays as it is: its sleepers still need the wake of the next set().)
    state_.compare_exchange_strong(expected, kUnset, std::memory_order_relaxed,
                                   std::memory_order_relaxed);
  }

  bool is_set() const noexcept {
    // acquire: synchronizes with set()'s release, as in wait().
    return state_.load(std::memory_order_acquire) == kSet;
  }

  void wait() noexcept {
    while (!is_set()) {
      if (!announce_waiter()) continue;
      futex_wait(state_, kUnsetWithWaiters);
    }
  }

  // True if the event was set, false if `timeout` expired first.
  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    return wait_until_steady(deadline_after(timeout));
  }

  template <typename Clock, typename Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& abs_time) noexcept {
    return wait_until_steady(to_steady_deadline(abs_time));
  }

 private:
  static constexpr std::uint32_t kUnset = 0;
  static constexpr std::uint32_t kSet = 1;
  static constexpr std::uint32_t kUnsetWithWaiters = 2;  // set() must wake sleepers

  // Moves kUnset -> kUnsetWithWaiters. False if the event got set meanwhile.
  bool announce_waiter() noexcept {
    std::uint32_t expected = kUnset;
    // relaxed: this only tells set() to wake us; the acquire load in is_set() does the syncing.
    if (state_.compare_exchange_strong(expected, kUnsetWithWaiters, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
      return true;
    }
    return expected == kUnsetWithWaiters;
  }

  bool wait_until_steady(std::chrono::steady_clock::time_point deadline) noexcept {
    while (!is_set()) {
      if (!announce_waiter()) continue;
      if (futex_wait_until(state_, kUnsetWithWaiters, deadline) == FutexWaitResult::kTimedOut) {
        return is_set();
      }
    }
    return true;
  }

  std::atomic<std::uint32_t> state_{kUnset};
};

}  // namespace zap::zync
