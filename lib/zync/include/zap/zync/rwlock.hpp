// RwLock: a reader-writer lock on futexes that never starves writers.
//
//   zap::zync::RwLock lock;
//   Routes routes;  // guarded by lock
//   { std::shared_lock reader(lock); lookup(routes, key); }   // many readers at once
//   { std::unique_lock writer(lock); routes.add(route); }     // one writer, no readers
//
// A waiting writer blocks new readers, so a steady stream of readers cannot starve it; when a
// writer unlocks and both kinds wait, one writer goes next and the readers after it. Uncontended
// lock_shared()/unlock_shared() and lock()/unlock() are one atomic read-modify-write each, and
// unlocking makes a syscall only when someone sleeps. Readers and writers spin briefly before
// sleeping. Not recursive: a thread must not take it twice, shared or not (a writer waiting between
// the two would deadlock it). The design follows Rust's std futex RwLock (library/std/src/sys/).
//
// Thread-safety: all members are thread-safe; unlock*() by the thread that locked. Unlike Mutex, an
// unlock*() that wakes waiters touches the lock after releasing it: do not destroy an RwLock that
// another thread may still be unlocking (e.g. free it only after joining, or under another lock).
#pragma once

#include <atomic>
#include <cstdint>

namespace zap::zync {

class RwLock {
 public:
  constexpr RwLock() noexcept = default;
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock_shared() noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    // acquire on success: synchronizes with the release in the last writer's unlock(). relaxed
    // on failure: the slow path reloads.
    if (!is_read_lockable(state) ||
        !state_.compare_exchange_weak(state, state + kReadLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed)) [[unlikely]] {
      lock_shared_contended();
    }
  }

  bool try_lock_shared() noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    while (is_read_lockable(state)) {
      // acquire on success: as in lock_shared(). relaxed on failure: we re-check the new state.
      if (state_.compare_exchange_weak(state, state + kReadLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void unlock_shared() noexcept {
    // release: our reads of the data happen-before the next writer's acquire (so it cannot
    // overwrite what we are still reading).
    const std::uint32_t state =
        state_.fetch_sub(kReadLocked, std::memory_order_release) - kReadLocked;
    // The last reader out wakes a waiting writer (readers wait only behind writers).
    if (is_unlocked(state) && has_writers_waiting(state)) [[unlikely]] {
      wake_writer_or_readers(state);
    }
  }

  void lock() noexcept {
    std::uint32_t state = 0;
    // acquire on success: synchronizes with the release in the previous unlock()/unlock_shared().
    // relaxed on failure: the slow path reloads.
    if (!state_.compare_exchange_weak(state, kWriteLocked, std::memory_order_acquire,
                                      std::memory_order_relaxed)) [[unlikely]] {
      lock_contended();
    }
  }

  bool try_lock() noexcept {
    // relaxed: a first look; the compare-exchange below carries the ordering.
    std::uint32_t state = state_.load(std::memory_order_relaxed);
    while (is_unlocked(state)) {
      // acquire on success: as in lock(). Keeps the waiting bits. relaxed on failure: re-check.
      if (state_.compare_exchange_weak(state, state + kWriteLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  void unlock() noexcept {
    // release: publishes our writes to the next reader's or writer's acquire.
    const std::uint32_t state =
        state_.fetch_sub(kWriteLocked, std::memory_order_release) - kWriteLocked;
    if (has_readers_waiting(state) || has_writers_waiting(state)) [[unlikely]] {
      wake_writer_or_readers(state);
    }
  }

 private:
  // state_: bits 0-29 the lock (0 unlocked, n readers, or kWriteLocked), bit 30 readers sleep,
  // bit 31 writers sleep.
  static constexpr std::uint32_t kReadLocked = 1;
  static constexpr std::uint32_t kLockMask = (1u << 30) - 1;
  static constexpr std::uint32_t kWriteLocked = kLockMask;
  static constexpr std::uint32_t kMaxReaders = kLockMask - 1;
  static constexpr std::uint32_t kReadersWaiting = 1u << 30;
  static constexpr std::uint32_t kWritersWaiting = 1u << 31;

  static constexpr bool is_unlocked(std::uint32_t s) noexcept { return (s & kLockMask) == 0; }
  static constexpr bool is_write_locked(std::uint32_t s) noexcept {
    return (s & kLockMask) == kWriteLocked;
  }
  static constexpr bool has_readers_waiting(std::uint32_t s) noexcept {
    return (s & kReadersWaiting) != 0;
  }
  static constexpr bool has_writers_waiting(std::uint32_t s) noexcept {
    return (s & kWritersWaiting) != 0;
  }
  // A new reader may enter only if no writer holds the lock and nobody waits (writer priority).
  static constexpr bool is_read_lockable(std::uint32_t s) noexcept {
    return (s & kLockMask) < kMaxReaders && !has_readers_waiting(s) && !has_writers_waiting(s);
  }

  void lock_shared_contended() noexcept;
  void lock_contended() noexcept;
  void wake_writer_or_readers(std::uint32_t state) noexcept;
  bool wake_writer() noexcept;
  std::uint32_t spin_read() noexcept;
  std::uint32_t spin_write() noexcept;

  std::atomic<std::uint32_t> state_{0};          // readers sleep on this word
  std::atomic<std::uint32_t> writer_notify_{0};  // writers sleep on this one; bumped to wake one
};

}  // namespace zap::zync
