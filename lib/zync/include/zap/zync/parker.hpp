// Parker: blocks one thread until another thread unparks it; one permit, like Rust's
// std::thread::park / Thread::unpark.
//
//   zap::zync::Parker parker;  // owned by the worker thread
//   // worker:                                // any other thread:
//   while (!has_work()) parker.park();          push_work(); parker.unpark();
//
// unpark() makes a permit available (permits do not accumulate: at most one); park() consumes it,
// sleeping until there is one. So an unpark() that comes before the park() is not lost. park() may
// also return spuriously; callers re-check their condition in a loop. park_for() returns whether it
// consumed a permit (false: the timeout expired, or a spurious wakeup).
// Memory: everything the unparking thread did before unpark() happens-before the return of the
// park() that consumes its permit.
//
// Thread-safety: park()/park_for() must be called only by one thread (the owner) at a time;
// unpark() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "zap/zync/futex.hpp"

namespace zap::zync {

class Parker {
 public:
  constexpr Parker() noexcept = default;
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  void park() noexcept {
    // kNotified -> kEmpty (consume the permit) or kEmpty -> kParked. acquire: if we consume a
    // permit, synchronize with the release exchange in unpark().
    if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
    for (;;) {
      futex_wait(state_, kParked);
      std::uint32_t expected = kNotified;
      // acquire on success: synchronizes with unpark()'s release exchange. acquire on failure too,
      // harmlessly: on failure (spurious wakeup) we stay kParked and sleep again.
      if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
        return;
      }
    }
  }

  // True if a permit was consumed, false if `timeout` expired (or the wakeup was spurious).
  template <typename Rep, typename Period>
  bool park_for(const std::chrono::duration<Rep, Period>& timeout) noexcept {
    return park_until_steady(deadline_after(timeout));
  }

  template <typename Clock, typename Duration>
  bool park_until(const std::chrono::time_point<Clock, Duration>& abs_time) noexcept {
    return park_until_steady(to_steady_deadline(abs_time));
  }

  void unpark() noexcept {
    // release: publishes what we did before unpark() to the park() that consumes the permit.
    if (state_.exchange(kNotified, std::memory_order_release) == kParked) futex_wake(state_, 1);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kNotified = 1;
  static constexpr std::uint32_t kParked = ~std::uint32_t{0};  // kEmpty - 1: park()'s fetch_sub

  bool park_until_steady(std::chrono::steady_clock::time_point deadline) noexcept {
    // acquire: as in park().
    if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return true;
    futex_wait_until(state_, kParked, deadline);
    // Leave kParked whatever woke us. acquire: if it was an unpark(), synchronize with its release.
    return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;
  }

  std::atomic<std::uint32_t> state_{kEmpty};
};

}  // namespace zap::zync
