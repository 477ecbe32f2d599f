// Mutex slow paths: spinning, sleeping, waking. The fast paths are inline in mutex.hpp.
#include "zap/zync/mutex.hpp"

#include "zap/zync/backoff.hpp"
#include "zap/zync/futex.hpp"

namespace zap::zync {
namespace {

// Looks at the lock before sleeping, with exponentially more PAUSEs between looks (Backoff::spin:
// 1, 2, 4 ... 64): ~190 PAUSEs in all, about 1-10 us depending on the CPU. Long enough to outlast
// a short critical section on another core; the growing gaps keep the waiter from pulling the
// cache line away from the owner at every iteration (each look turns the owner's next atomic into
// a cache miss). Measured on a loaded 2-vCPU EPYC VM, 0-400 linear spins or 8-12 exponential rounds
// were all within the noise of the contended benchmark; long spins were never better.
constexpr int kSpinRounds = 8;

}  // namespace

std::uint32_t Mutex::spin_while_locked() noexcept {
  // Spin only while the lock is held and nobody sleeps (kLocked): if it is kContended, others are
  // already queued in the kernel and spinning would only delay our turn in the queue.
  Backoff backoff;
  for (int i = 0; i < kSpinRounds; ++i) {
    // relaxed: only a hint; the exchange/compare-exchange that takes the lock carries acquire.
    const std::uint32_t state = state_.load(std::memory_order_relaxed);
    if (state != kLocked) return state;
    backoff.spin();
  }
  // relaxed: as above.
  return state_.load(std::memory_order_relaxed);
}

void Mutex::lock_contended() noexcept {
  std::uint32_t state = spin_while_locked();
  if (state == kUnlocked) {
    // Freed while we spun: take it as kLocked (no sleeper known). acquire on success: synchronizes
    // with the owner's release in unlock(). relaxed on failure: we only learn the new state.
    if (state_.compare_exchange_strong(state, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
  }
  for (;;) {
    // Mark the lock contended before sleeping so that the owner's unlock() wakes us. We cannot know
    // whether other sleepers remain, so when this exchange takes the lock it keeps kContended
    // (at worst one futex_wake too many). acquire: if it returns kUnlocked we now own the lock and
    // synchronize with the previous owner's release in unlock().
    if (state != kContended &&
        state_.exchange(kContended, std::memory_order_acquire) == kUnlocked) {
      return;
    }
    // Sleeps only while the word is still kContended; an unlock() in between makes it return.
    futex_wait(state_, kContended);
    state = spin_while_locked();
  }
}

void Mutex::wake_one() noexcept { futex_wake(state_, 1); }

}  // namespace zap::zync
