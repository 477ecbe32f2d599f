// Condvar: a condition variable for zync::Mutex, on a futex sequence counter.
//
//   zap::zync::Mutex mutex;
//   zap::zync::Condvar ready_cv;
//   bool ready = false;  // guarded by mutex
//
//   // waiter
//   std::unique_lock lock(mutex);
//   ready_cv.wait(lock, [&] { return ready; });
//   // notifier
//   { std::lock_guard guard(mutex); ready = true; }
//   ready_cv.notify_one();
//
// A waiter reads the sequence number while it holds the mutex, unlocks, and sleeps only while the
// number is unchanged; every notify bumps it first, so a notify after the waiter's unlock cannot be
// lost. Wakeups may be spurious (as with std::condition_variable): wait in a loop or with a
// predicate. notify_*() skip the syscall when nobody waits.
//
// Thread-safety: all members are thread-safe. The waiter must hold the lock passed to wait*();
// the notifier must change the awaited state under the same mutex (it may notify after unlocking).
// notify_*() read and write the Condvar itself: if a woken waiter may destroy it, notify while
// holding the mutex (then the waiter cannot return before the notify is over).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

#include "zap/zync/futex.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zync {

class Condvar {
 public:
  constexpr Condvar() noexcept = default;
  Condvar(const Condvar&) = delete;
  Condvar& operator=(const Condvar&) = delete;

  void notify_one() noexcept {
    // relaxed: the ordering that matters comes from the mutex. A waiter read seq_ and bumped
    // waiters_ under the mutex; the notifier changed the predicate under the mutex after that, so
    // both the waiter's read (coherence: our bump comes later in seq_'s order) and its waiters_
    // bump happen-before what we do here.
    seq_.fetch_add(1, std::memory_order_relaxed);
    // relaxed: see above; a stale nonzero count only costs a syscall that wakes nobody.
    if (waiters_.load(std::memory_order_relaxed) != 0) futex_wake(seq_, 1);
  }

  void notify_all() noexcept {
    // relaxed: as in notify_one().
    seq_.fetch_add(1, std::memory_order_relaxed);
    // relaxed: as in notify_one().
    if (waiters_.load(std::memory_order_relaxed) != 0) futex_wake_all(seq_);
  }

  // Unlocks, sleeps until notified (or spuriously), relocks.
  void wait(std::unique_lock<Mutex>& lock) noexcept {
    const std::uint32_t seq = prepare_wait();
    lock.unlock();
    futex_wait(seq_, seq);
    finish_wait(lock);
  }

  template <typename Predicate>
  void wait(std::unique_lock<Mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }

  // cv_status::timeout once `abs_time` has passed, else no_timeout (which may be spurious).
  template <typename Clock, typename Duration>
  std::cv_status wait_until(std::unique_lock<Mutex>& lock,
                            const std::chrono::time_point<Clock, Duration>& abs_time) noexcept {
    const auto deadline = to_steady_deadline(abs_time);
    const std::uint32_t seq = prepare_wait();
    lock.unlock();
    const FutexWaitResult result = futex_wait_until(seq_, seq, deadline);
    finish_wait(lock);
    return result == FutexWaitResult::kTimedOut || Clock::now() >= abs_time
               ? std::cv_status::timeout
               : std::cv_status::no_timeout;
  }

  // The predicate's final value: false only if it still fails after `abs_time`.
  template <typename Clock, typename Duration, typename Predicate>
  bool wait_until(std::unique_lock<Mutex>& lock,
                  const std::chrono::time_point<Clock, Duration>& abs_time, Predicate pred) {
    while (!pred()) {
      if (wait_until(lock, abs_time) == std::cv_status::timeout) return pred();
    }
    return true;
  }

  template <typename Rep, typename Period>
  std::cv_status wait_for(std::unique_lock<Mutex>& lock,
                          const std::chrono::duration<Rep, Period>& rel_time) noexcept {
    return wait_until(lock, deadline_after(rel_time));
  }

  template <typename Rep, typename Period, typename Predicate>
  bool wait_for(std::unique_lock<Mutex>& lock, const std::chrono::duration<Rep, Period>& rel_time,
                Predicate pred) {
    return wait_until(lock, deadline_after(rel_time), std::move(pred));
  }

 private:
  // Called with the mutex held. Returns the sequence number to sleep on.
  std::uint32_t prepare_wait() noexcept {
    // relaxed: the mutex orders this against notifiers (see notify_one()), and the futex itself
    // compares seq_ atomically, so a bump after this read makes futex_wait return at once.
    waiters_.fetch_add(1, std::memory_order_relaxed);
    // relaxed: read under the mutex; see above.
    return seq_.load(std::memory_order_relaxed);
  }

  void finish_wait(std::unique_lock<Mutex>& lock) noexcept {
    // relaxed: only a hint for notifiers; it guards no data.
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    lock.lock();
  }

  std::atomic<std::uint32_t> seq_{0};      // bumped by every notify; the futex word
  std::atomic<std::uint32_t> waiters_{0};  // threads between prepare_wait() and finish_wait()
};

}  // namespace zap::zync
