// Mutex: a futex-based mutual-exclusion lock in one 32-bit word.
//
//   zap::zync::Mutex mutex;
//   std::uint64_t counter = 0;  // guarded by mutex
//   {
//     std::lock_guard guard(mutex);  // std::unique_lock / std::scoped_lock work too
//     ++counter;
//   }
//
// The word is unlocked / locked / locked-with-waiters (Drepper, "Futexes Are Tricky", mutex3).
// Uncontended lock() is one compare-exchange and unlock() one exchange, both inline; unlock() makes
// the futex_wake syscall only when a waiter may be asleep. A contended lock() spins a bounded
// number of times while the owner runs (critical sections are usually short), then sleeps in the
// kernel. Not fair, not recursive: a thread that locks it twice deadlocks.
//
// Thread-safety: all members are thread-safe; unlock() must be called by the owning thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace zap::zync {

class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() noexcept {
    std::uint32_t state = kUnlocked;
    // acquire on success: synchronizes with the release exchange in the previous owner's unlock(),
    // so its critical section happens-before ours. relaxed on failure: nothing is read yet.
    if (!state_.compare_exchange_strong(state, kLocked, std::memory_order_acquire,
                                        std::memory_order_relaxed)) [[unlikely]] {
      lock_contended();
    }
  }

  bool try_lock() noexcept {
    std::uint32_t state = kUnlocked;
    // acquire on success, relaxed on failure: as in lock().
    return state_.compare_exchange_strong(state, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() noexcept {
    // release: publishes our critical section to the next owner's acquire in lock()/try_lock().
    if (state_.exchange(kUnlocked, std::memory_order_release) == kContended) [[unlikely]] {
      wake_one();
    }
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0;
  static constexpr std::uint32_t kLocked = 1;     // locked, nobody asleep
  static constexpr std::uint32_t kContended = 2;  // locked, and a waiter may be asleep

  void lock_contended() noexcept;
  std::uint32_t spin_while_locked() noexcept;
  void wake_one() noexcept;

  std::atomic<std::uint32_t> state_{kUnlocked};
};

static_assert(sizeof(Mutex) == 4);

}  // namespace zap::zync
