// Lazy<T>: a value built on first use, exactly once, however many threads ask at the same time.
//
//   zap::zync::Lazy<Topology> topology([] { return Topology::from_sysfs(); });
//   // any thread, any time:
//   const Topology& t = topology.get();  // the first caller builds it; the others wait for it
//
//   zap::zync::Lazy table{[] { return build_table(); }};  // T deduced from the initializer
//
// Like a value guarded by std::call_once, but the state is one atomic word and waiters sleep on a
// futex. get() after initialization is one acquire load. If the initializer throws, Lazy stays
// uninitialized, the exception propagates to that caller, and the next get() tries again.
// The initializer must not call get() on the same Lazy (it would deadlock).
//
// Thread-safety: get() is thread-safe; the T it returns is shared, and as thread-safe as T is.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "zap/zync/futex.hpp"

namespace zap::zync {

template <typename T, typename Init = T (*)()>
class Lazy {
 public:
  explicit Lazy(Init init) noexcept(std::is_nothrow_move_constructible_v<Init>)
      : init_(std::move(init)) {}
  Lazy(const Lazy&) = delete;
  Lazy& operator=(const Lazy&) = delete;

  ~Lazy() {
    // relaxed: destruction is not concurrent with get(); the caller ordered that for us.
    if (state_.load(std::memory_order_relaxed) == kReady) std::destroy_at(value_ptr());
  }

  T& get() {
    // acquire: synchronizes with the release store in initialize(), so the built T is visible.
    if (state_.load(std::memory_order_acquire) != kReady) [[unlikely]]
      initialize();
    return *value_ptr();
  }

  T& operator*() { return get(); }
  T* operator->() { return &get(); }

  bool is_initialized() const noexcept {
    // acquire: as in get(), so a caller that sees true may then read the value.
    return state_.load(std::memory_order_acquire) == kReady;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kRunning = 1;             // one thread runs the initializer
  static constexpr std::uint32_t kRunningWithWaiters = 2;  // ... and others sleep on the word
  static constexpr std::uint32_t kReady = 3;

  // Puts the word back to kEmpty and wakes the waiters if the initializer throws.
  class ResetOnUnwind {
   public:
    explicit ResetOnUnwind(std::atomic<std::uint32_t>& state) noexcept : state_(state) {}
    ResetOnUnwind(const ResetOnUnwind&) = delete;
    ResetOnUnwind& operator=(const ResetOnUnwind&) = delete;
    ~ResetOnUnwind() {
      if (!armed_) return;
      // relaxed: nothing was built, so nothing is published; a waiter retries from scratch.
      if (state_.exchange(kEmpty, std::memory_order_relaxed) == kRunningWithWaiters) {
        futex_wake_all(state_);
      }
    }
    void disarm() noexcept { armed_ = false; }

   private:
    std::atomic<std::uint32_t>& state_;
    bool armed_ = true;
  };

  void initialize() {
    // acquire: if it is already kReady, synchronizes with the release in the builder.
    std::uint32_t state = state_.load(std::memory_order_acquire);
    for (;;) {
      if (state == kReady) return;
      if (state == kEmpty) {
        // acquire on both: on failure we may read kReady and then the value (as above); on
        // success nothing needs it, but acquire costs nothing more here.
        if (!state_.compare_exchange_strong(state, kRunning, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
          continue;
        }
        ResetOnUnwind guard(state_);
        ::new (static_cast<void*>(storage_)) T(std::invoke(init_));
        guard.disarm();
        // release: publishes the constructed T to every acquire load that reads kReady.
        if (state_.exchange(kReady, std::memory_order_release) == kRunningWithWaiters) {
          futex_wake_all(state_);
        }
        return;
      }
      if (state == kRunning) {
        // acquire on failure: we may read kReady and then the value. The success order only asks
        // the builder to wake us and needs nothing, but it may not be weaker than the failure
        // order (GCC rejects that under TSan), so acquire too.
        if (!state_.compare_exchange_strong(state, kRunningWithWaiters, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
          continue;
        }
      }
      futex_wait(state_, kRunningWithWaiters);
      // acquire: as at the top.
      state = state_.load(std::memory_order_acquire);
    }
  }

  T* value_ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage_)); }

  Init init_;
  std::atomic<std::uint32_t> state_{kEmpty};
  alignas(T) unsigned char storage_[sizeof(T)];
};

template <typename Init>
Lazy(Init) -> Lazy<std::remove_cvref_t<std::invoke_result_t<Init&>>, Init>;

}  // namespace zap::zync
