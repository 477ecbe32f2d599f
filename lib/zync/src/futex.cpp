// futex(2) through syscall(): glibc has no wrapper.
#include "zap/zync/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace zap::zync {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// The kernel reads and compares the word itself; an always-lock-free atomic<uint32_t> has the
// representation of a uint32_t, so its address is the futex word.
std::uint32_t* word_address(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}

timespec to_timespec(std::chrono::nanoseconds ns) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(ns);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(seconds.count());
  ts.tv_nsec = static_cast<long>((ns - seconds).count());
  return ts;
}

FutexWaitResult wait_result(long rc) noexcept {
  if (rc == 0) return FutexWaitResult::kWoken;
  switch (errno) {
    case EAGAIN:
      return FutexWaitResult::kValueChanged;
    case ETIMEDOUT:
      return FutexWaitResult::kTimedOut;
    case EINTR:
      return FutexWaitResult::kInterrupted;
    default:
      return FutexWaitResult::kFailed;
  }
}

int wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  const long rc =
      syscall(SYS_futex, word_address(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
  return rc >= 0 ? static_cast<int>(rc) : -errno;
}

}  // namespace

FutexWaitResult futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout) noexcept {
  timespec ts{};
  timespec* ts_ptr = nullptr;
  if (timeout) {
    if (timeout->count() <= 0) return FutexWaitResult::kTimedOut;
    ts = to_timespec(*timeout);
    ts_ptr = &ts;
  }
  // FUTEX_WAIT takes a relative timeout, measured on CLOCK_MONOTONIC.
  return wait_result(
      syscall(SYS_futex, word_address(word), FUTEX_WAIT_PRIVATE, expected, ts_ptr, nullptr, 0));
}

FutexWaitResult futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                 std::chrono::steady_clock::time_point deadline) noexcept {
  const auto since_epoch = deadline.time_since_epoch();
  if (since_epoch.count() <= 0) return FutexWaitResult::kTimedOut;
  timespec ts = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch));
  // FUTEX_WAIT_BITSET takes an absolute timeout, on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME
  // is given; libstdc++'s steady_clock reads CLOCK_MONOTONIC, so the two agree.
  return wait_result(syscall(SYS_futex, word_address(word), FUTEX_WAIT_BITSET_PRIVATE, expected,
                             &ts, nullptr, FUTEX_BITSET_MATCH_ANY));
}

int futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept { return wake(word, count); }

int futex_wake_all(std::atomic<std::uint32_t>& word) noexcept { return wake(word, INT_MAX); }

std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept {
  constexpr std::chrono::nanoseconds kMaxTimeout = std::chrono::hours(24 * 365 * 100);
  if (timeout > kMaxTimeout) timeout = kMaxTimeout;
  if (timeout < std::chrono::nanoseconds::zero()) timeout = std::chrono::nanoseconds::zero();
  return std::chrono::steady_clock::now() + timeout;
}

}  // namespace zap::zync
