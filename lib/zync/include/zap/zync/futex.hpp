// Futex: the Linux wait/wake primitive under every blocking type of zync.
//
// futex_wait() sleeps only if a 32-bit word still holds the value the caller last saw (the kernel
// checks this atomically against futex_wake()), so "check, then sleep" cannot lose a wakeup:
//
//   std::atomic<std::uint32_t> flag{0};
//   // waiter:
//   while (flag.load(std::memory_order_acquire) == 0) futex_wait(flag, 0);
//   // waker:
//   flag.store(1, std::memory_order_release);
//   futex_wake(flag, 1);
//
// The calls use private futexes (FUTEX_PRIVATE_FLAG): the word must not be shared between
// processes. Errors are return values, never exceptions. Wakeups may be spurious: always re-check
// the word.
//
// Thread-safety: all functions are thread-safe. They impose no memory ordering of their own; the
// atomic operations on the word around them carry the ordering.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace zap::zync {

enum class FutexWaitResult {
  kWoken,         // woken by futex_wake, or spuriously: re-check the word
  kValueChanged,  // the word did not hold `expected` (EAGAIN): it changed before we slept
  kTimedOut,      // the timeout expired (ETIMEDOUT)
  kInterrupted,   // a signal handler ran (EINTR)
  kFailed,        // EFAULT/EINVAL/ENOSYS: a bug, or a kernel without futexes; errno holds the cause
};

// Sleeps while `word` == `expected`, at most `timeout` (relative, CLOCK_MONOTONIC) if given.
FutexWaitResult futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout = std::nullopt) noexcept;

// Sleeps while `word` == `expected`, until the absolute `deadline` (steady_clock is
// CLOCK_MONOTONIC, so a deadline does not drift across spurious wakeups).
FutexWaitResult futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                 std::chrono::steady_clock::time_point deadline) noexcept;

// Wakes at most `count` threads sleeping on `word`. Returns how many were woken, or -errno.
int futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;

// Wakes every thread sleeping on `word`. Returns how many were woken, or -errno.
int futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

// The steady_clock deadline `timeout` from now, saturated at ~100 years so that
// `duration::max()` means "forever" without overflowing.
std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept;

template <typename Rep, typename Period>
std::chrono::steady_clock::time_point deadline_after(
    const std::chrono::duration<Rep, Period>& timeout) noexcept {
  // Compare in floating point: hours::max() converted to nanoseconds would overflow.
  constexpr double kMaxSeconds = 100.0 * 365 * 24 * 3600;
  const double seconds = std::chrono::duration<double>(timeout).count();
  if (seconds >= kMaxSeconds) return deadline_after(std::chrono::nanoseconds::max());
  return deadline_after(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
}

// `abs_time` on any clock as a steady_clock deadline (exact for steady_clock; for other clocks, the
// time remaining now, measured on the steady clock).
template <typename Clock, typename Duration>
std::chrono::steady_clock::time_point to_steady_deadline(
    const std::chrono::time_point<Clock, Duration>& abs_time) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
    return std::chrono::time_point_cast<std::chrono::steady_clock::duration>(abs_time);
  } else {
    return deadline_after(abs_time - Clock::now());
  }
}

}  // namespace zap::zync
