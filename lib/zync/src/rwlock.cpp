// RwLock slow paths: spinning, sleeping and waking. The fast paths are inline in rwlock.hpp.
#include "zap/zync/rwlock.hpp"

#include "zap/zync/backoff.hpp"
#include "zap/zync/futex.hpp"

namespace zap::zync {
namespace {

// Looks before sleeping, with exponentially growing gaps (Backoff::spin): as in Mutex, enough to
// outlast a short critical section without pulling the cache line from the owner at every PAUSE.
constexpr int kSpinRounds = 8;

}  // namespace

std::uint32_t RwLock::spin_read() noexcept {
  Backoff backoff;
  for (int i = 0;; ++i) {
    // relaxed: only decides when to stop spinning; the caller's compare-exchange synchronizes.
    const std::uint32_t state = state_.load(std::memory_order_relaxed);
    // Stop once the writer is gone, or once someone sleeps (we would queue up behind them).
    if (!is_write_locked(state) || has_readers_waiting(state) || has_writers_waiting(state) ||
        i == kSpinRounds) {
      return state;
    }
    backoff.spin();
  }
}

std::uint32_t RwLock::spin_write() noexcept {
  Backoff backoff;
  for (int i = 0;; ++i) {
    // relaxed: as in spin_read().
    const std::uint32_t state = state_.load(std::memory_order_relaxed);
    if (is_unlocked(state) || has_writers_waiting(state) || i == kSpinRounds) return state;
    backoff.spin();
  }
}

void RwLock::lock_shared_contended() noexcept {
  std::uint32_t state = spin_read();
  for (;;) {
    if (is_read_lockable(state)) {
      // acquire on success: synchronizes with the release in the last writer's unlock().
      // relaxed on failure: we loop on the new state.
      if (state_.compare_exchange_weak(state, state + kReadLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    // A reader count of kMaxReaders (2^30 - 2) cannot happen with real threads; if it did we would
    // sleep until a reader leaves, which is still correct.
    if (!has_readers_waiting(state)) {
      // relaxed: only asks the unlocker to wake us; the acquire compare-exchange above syncs.
      if (!state_.compare_exchange_strong(state, state | kReadersWaiting, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        continue;
      }
    }
    futex_wait(state_, state | kReadersWaiting);
    state = spin_read();
  }
}

void RwLock::lock_contended() noexcept {
  std::uint32_t state = spin_write();
  // Once we have slept, other writers may sleep too: keep their bit set when we take the lock, so
  // our unlock() wakes the next one (at worst one futex_wake too many).
  std::uint32_t other_writers_waiting = 0;
  for (;;) {
    if (is_unlocked(state)) {
      // acquire on success: synchronizes with the release in the previous unlock*(). relaxed on
      // failure: we loop on the new state.
      if (state_.compare_exchange_weak(state, state | kWriteLocked | other_writers_waiting,
                                       std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if (!has_writers_waiting(state)) {
      // relaxed: only asks the unlocker to wake a writer; also blocks new readers.
      if (!state_.compare_exchange_strong(state, state | kWritersWaiting, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
        continue;
      }
    }
    other_writers_waiting = kWritersWaiting;
    // Read the notification counter before re-checking state_: a wake_writer() after this load
    // bumps the counter, so futex_wait below returns at once instead of missing it.
    // acquire: synchronizes with wake_writer()'s release increment, which comes after the
    // unlocker's state change; so the state_ load below sees that change.
    const std::uint32_t seq = writer_notify_.load(std::memory_order_acquire);
    // relaxed: the acquire above orders this load after the unlock it was told about.
    state = state_.load(std::memory_order_relaxed);
    if (is_unlocked(state) || !has_writers_waiting(state)) continue;
    futex_wait(writer_notify_, seq);
    state = spin_write();
  }
}

void RwLock::wake_writer_or_readers(std::uint32_t state) noexcept {
  // Called by the unlocker that left the lock free with waiting bits set. If someone locks it in
  // the meantime, that thread's unlock will do the waking instead (our compare-exchanges fail).

  // Only writers wait: clear the bit and wake one (it sets the bit again if others still sleep).
  if (state == kWritersWaiting) {
    // relaxed: the data was published by our release fetch_sub; this only hands off the wakeup.
    if (state_.compare_exchange_strong(state, 0, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
      wake_writer();
      return;
    }
    // Readers may have started waiting too: fall through with the new state.
  }
  // Both wait: keep the readers waiting and let one writer go first (writer priority).
  if (state == (kReadersWaiting | kWritersWaiting)) {
    // relaxed: as above.
    if (!state_.compare_exchange_strong(state, kReadersWaiting, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
      return;  // locked again meanwhile: its unlocker will wake the waiters
    }
    if (wake_writer()) return;
    // No writer was actually asleep (it may be about to retry and take the lock itself); wake the
    // readers so that nobody is left behind.
    state = kReadersWaiting;
  }
  // Only readers wait: wake them all.
  if (state == kReadersWaiting) {
    // relaxed: as above.
    if (state_.compare_exchange_strong(state, 0, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
      futex_wake_all(state_);
    }
  }
}

bool RwLock::wake_writer() noexcept {
  // release: pairs with the acquire load of writer_notify_ in lock_contended(), so a writer that
  // sees the new count also sees the state change made before this call.
  writer_notify_.fetch_add(1, std::memory_order_release);
  return futex_wake(writer_notify_, 1) > 0;
}

}  // namespace zap::zync
