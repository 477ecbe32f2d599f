// Backoff: exponential spinning for contended retry loops, then yielding to the OS.
//
//   Backoff backoff;
//   while (!try_take()) {
//     if (backoff.is_completed()) { park(); backoff.reset(); } else { backoff.snooze(); }
//   }
//
// spin() is for a CAS that lost a race (retry soon); snooze() is for waiting on another thread to
// make progress (spin, then sched_yield). is_completed() says spinning has stopped paying off and
// the caller should block instead. Not thread-safe: one Backoff per waiting thread, on its stack.
#pragma once

#include <sched.h>

#include <cstdint>

#include "zap/zync/spin_hint.hpp"

namespace zap::zync {

class Backoff {
 public:
  // 2^6 = 64 pause instructions at most per spin() round (~ a few hundred ns to a few us).
  static constexpr std::uint32_t kSpinLimit = 6;
  // After 2^10 pauses per round the waiter should park rather than burn the core.
  static constexpr std::uint32_t kYieldLimit = 10;

  void reset() noexcept { step_ = 0; }

  // Spins 2^step pauses. For lock-free retry loops, where the other thread is running right now.
  void spin() noexcept {
    const std::uint32_t step = step_ < kSpinLimit ? step_ : kSpinLimit;
    for (std::uint32_t i = 0; i < (1u << step); ++i) spin_hint();
    if (step_ <= kSpinLimit) ++step_;
  }

  // Spins while that is cheap, then yields the CPU. For waiting on another thread's progress.
  void snooze() noexcept {
    if (step_ <= kSpinLimit) {
      for (std::uint32_t i = 0; i < (1u << step_); ++i) spin_hint();
    } else {
      sched_yield();
    }
    if (step_ <= kYieldLimit) ++step_;
  }

  // True once snooze() has backed off past the point where blocking is the better choice.
  bool is_completed() const noexcept { return step_ > kYieldLimit; }

 private:
  std::uint32_t step_ = 0;
};

}  // namespace zap::zync
