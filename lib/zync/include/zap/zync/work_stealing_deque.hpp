// WorkStealingDeque<T>: a growable Chase-Lev work-stealing deque, with the memory orderings of
// Lê, Pop, Cohen, Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models"
// (PPoPP 2013).
//
// For a scheduler's per-worker run queue: the owner thread pushes and pops at the bottom (LIFO, no
// atomic read-modify-write except when racing for the last element); other threads steal from the
// top (FIFO), one element with steal() or up to half of the deque with steal_batch(). T is a
// trivially copyable, lock-free-atomic type, typically a pointer to a task.
//
//   zap::zync::WorkStealingDeque<Task*> local;         // one per worker
//   local.push(task);                                   // owner
//   if (auto task = local.pop()) run(*task);            // owner
//   auto stolen = victim.steal();                       // any thread
//   if (stolen.is_success()) run(stolen.value);
//   else if (stolen.is_retry()) { /* lost a race: try again or elsewhere */ }
//   victim.steal_batch(local, 32);                      // thief moves half (<= 32) into its own
//   deque
//
// Thread-safety: push(), pop() and capacity() are for the owner thread only (one thread at a time).
// steal(), steal_batch(), steal_batch_and_pop() and size_approx() may be called from any thread;
// steal_batch*() push into `dest`, so the caller must be the owner of `dest` (and dest != *this).
//
// Growth and memory: push() on a full deque doubles the circular buffer (the only allocation after
// construction; allocation failure terminates, since push() is noexcept). A stealer may still be
// reading the old buffer, and without a reclamation scheme (epochs, hazard pointers) we cannot know
// when it stops, so retired buffers are kept, chained to the new one, until the deque is destroyed.
// Since capacities double, the retired buffers together are smaller than the current one: memory is
// at most twice the high-water mark. The deque never shrinks.
//
// Progress: push() is wait-free (amortized; growth copies), pop() and steal() are lock-free;
// steal() returns kRetry instead of looping when it loses a race, so the caller decides.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>

#include "zap/zync/cache_padded.hpp"

namespace zap::zync {

enum class StealStatus {
  kEmpty,    // the deque was observed empty
  kSuccess,  // `value` holds what was stolen
  kRetry,    // lost a race with another thief or the owner; the deque may not be empty
};

template <typename T>
struct StealResult {
  StealStatus status = StealStatus::kEmpty;
  T value{};  // meaningful only when status == kSuccess

  static StealResult empty() noexcept { return {StealStatus::kEmpty, T{}}; }
  static StealResult retry() noexcept { return {StealStatus::kRetry, T{}}; }
  static StealResult success(T v) noexcept { return {StealStatus::kSuccess, v}; }

  bool is_empty() const noexcept { return status == StealStatus::kEmpty; }
  bool is_success() const noexcept { return status == StealStatus::kSuccess; }
  bool is_retry() const noexcept { return status == StealStatus::kRetry; }
};

template <typename T>
class WorkStealingDeque {
  static_assert(std::is_trivially_copyable_v<T>,
                "WorkStealingDeque<T>: T must be trivially copyable");
  static_assert(
      std::atomic<T>::is_always_lock_free,
      "WorkStealingDeque<T>: slots are read racily, so T must be a lock-free atomic type");

 public:
  static constexpr std::size_t kDefaultCapacity = 256;

  // Allocates max(initial_capacity, 2) rounded up to a power of two slots.
  explicit WorkStealingDeque(std::size_t initial_capacity = kDefaultCapacity)
      : current_(std::make_unique<Buffer>(
            static_cast<std::int64_t>(std::bit_ceil(std::max<std::size_t>(initial_capacity, 2))),
            nullptr)) {
    // Relaxed: the deque is not shared yet; handing it to other threads publishes it.
    owner_->buffer.store(current_.get(), std::memory_order_relaxed);
    owner_->slots = current_->slots.get();
    owner_->mask = current_->mask;
  }

  WorkStealingDeque(const WorkStealingDeque&) = delete;
  WorkStealingDeque& operator=(const WorkStealingDeque&) = delete;

  // Owner only. Appends at the bottom; grows the buffer when it is full.
  void push(T value) noexcept {
    OwnerSide& owner = *owner_;
    // Relaxed: only the owner writes bottom.
    const std::int64_t b = owner.bottom.load(std::memory_order_relaxed);
    // The owner's copy of top is a lower bound (top only grows), so b - cached_top over-estimates
    // the size: when it says "room", there is room, and top is not read at all (its line stays
    // with the thieves). Only when it says full do we read top again.
    if (b - owner.cached_top > owner.mask) {
      // Acquire: pairs with the seq_cst (hence release) CAS of a thief that advanced top, so its
      // read of a slot happens-before we overwrite that slot below. Every later push() relies on
      // this too: a value of top acquired here (or in pop()) orders the reads of all slots below
      // it, since every write of top is a CAS and thus continues the release sequence.
      owner.cached_top = top_->load(std::memory_order_acquire);
      if (b - owner.cached_top > owner.mask) grow(b, owner.cached_top);  // full: capacity - 1
    }
    // Relaxed: published by the release store of bottom below.
    owner.slots[b & owner.mask].store(value, std::memory_order_relaxed);
    // Release: publishes the slot write (and, after grow(), the new buffer's contents) to thieves,
    // which load bottom with acquire. (Lê et al. use a release fence and a relaxed store; a release
    // store is equivalent here and visible to ThreadSanitizer, which does not model fences.)
    owner.bottom.store(b + 1, std::memory_order_release);
  }

  // Owner only. Removes the newest element (LIFO); nullopt if the deque is empty.
  std::optional<T> pop() noexcept {
    OwnerSide& owner = *owner_;
    // Relaxed: only the owner writes bottom.
    const std::int64_t b = owner.bottom.load(std::memory_order_relaxed) - 1;
    // Empty for sure: top >= cached_top >= bottom (top only grows, and only we move bottom). An
    // idle owner polling its deque pays neither the fence nor a store.
    if (b < owner.cached_top) return std::nullopt;
    // One element left (top == b), the common case of an owner that pushes a task and pops it
    // back: whoever advances top from b takes it, so one CAS decides, without storing bottom
    // and without the fence below - one locked instruction instead of two. A stale (smaller) top
    // only sends us down the general path; top never exceeds bottom, so t > b means empty.
    // Acquire: as for cached_top (see push()).
    if (std::int64_t t = top_->load(std::memory_order_acquire); t >= b) {
      if (t > b) {
        owner.cached_top = t;
        return std::nullopt;
      }
      const T value = owner.slots[b & owner.mask].load(std::memory_order_relaxed);
      // SeqCst on success: the same total order as the thieves' CAS, which compete for top == b
      // exactly as for the last element below. Relaxed on failure: a thief took it and the deque
      // is empty (top == b + 1 == bottom); cached_top keeps t, an acquired lower bound.
      if (!top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
        return std::nullopt;
      }
      owner.cached_top = b + 1;  // our CAS acquired the last thief's write of top (see below)
      return value;
    }
    // Release rather than Lê's relaxed: a thief that acquires this value of bottom must also see
    // the slot writes of earlier push()es. Lê et al. get that from push()'s release fence (any
    // later store of bottom carries it); we use release stores instead, so every bottom store is
    // one.
    owner.bottom.store(b, std::memory_order_release);
    // SeqCst fence: orders our store of bottom before our load of top, against the thieves' fence
    // between their load of top and their load of bottom. Either we see a thief's advance of top,
    // or it sees our reduced bottom, so the two cannot both take element b without one CAS
    // deciding. (g++ emits `lock or` to the stack, the cheapest full barrier on x86; measured on
    // this EPYC no slower than an xchg on bottom.)
    seq_cst_fence();
    // Acquire: the fence above orders the load; acquire (free on x86) is for cached_top, which
    // push() uses as an acquired value of top (see there). A CAS below decides any race for the
    // last element.
    std::int64_t t = top_->load(std::memory_order_acquire);
    owner.cached_top = t;
    if (t > b) {
      // Empty. Restore bottom. Release: as above, every bottom store publishes the slots.
      owner.bottom.store(b + 1, std::memory_order_release);
      return std::nullopt;
    }
    // Relaxed: our own write (push() ran on this thread); a racing thief only reads this slot.
    const T value = owner.slots[b & owner.mask].load(std::memory_order_relaxed);
    if (t == b) {
      // The last element: thieves may want it too; whoever advances top from t gets it.
      // SeqCst on success: takes part in the single total order with the fences and the thieves'
      // CAS (Lê et al.), so exactly one of us advances top from t.
      // Relaxed on failure: we only learn that we lost; cached_top keeps t, still a lower bound.
      const bool won = top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                                     std::memory_order_relaxed);
      // Release: as for every bottom store. The deque is empty either way: bottom = top = t + 1.
      owner.bottom.store(b + 1, std::memory_order_release);
      if (!won) return std::nullopt;
      // Our CAS wrote top = b + 1. Being seq_cst it also acquires: it read the value of the last
      // thief's CAS, so all thieves' slot reads below t happen-before it, as push() requires of
      // cached_top.
      owner.cached_top = b + 1;
    }
    return value;
  }

  // Any thread. Takes the oldest element (FIFO end).
  StealResult<T> steal() noexcept {
    // Acquire: pairs with the seq_cst CAS of the thief (or owner) that last advanced top, so we see
    // the deque at least as new as that steal.
    std::int64_t t = top_->load(std::memory_order_acquire);
    // SeqCst fence: pairs with the owner's fence in pop() (see there), so we cannot miss a
    // concurrent pop's reduced bottom while it misses our top.
    seq_cst_fence();
    // Acquire: pairs with the owner's release stores of bottom, so the slot writes of push() (the
    // element at t) are visible to our read below.
    const std::int64_t b = owner_->bottom.load(std::memory_order_acquire);
    if (b - t <= 0) return StealResult<T>::empty();
    // Acquire: pairs with grow()'s release store, so a new buffer's copied slots are visible. An
    // old buffer is fine too: retired buffers stay alive and unchanged (see the header comment).
    const Buffer* buffer = owner_->buffer.load(std::memory_order_acquire);
    const T value = buffer->load(t);
    // SeqCst: claims element t; in the single total order with the fences (Lê et al.). Its release
    // half lets the owner's acquire load of top in push() know that our slot read is done.
    // Relaxed on failure: someone else advanced top; we read nothing more.
    if (!top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
      return StealResult<T>::retry();
    }
    return StealResult<T>::success(value);
  }

  // Any thread that owns `dest` (dest != *this). Moves up to min(max_count, ceil(size / 2))
  // elements, oldest first, from the top of this deque to the bottom of `dest`. Returns kSuccess
  // with the number moved (>= 1), kEmpty, or kRetry if the first steal lost a race (nothing moved).
  StealResult<std::size_t> steal_batch(WorkStealingDeque& dest, std::size_t max_count) noexcept {
    return steal_many(dest, max_count, nullptr);
  }

  // As steal_batch(), but returns the oldest stolen element instead of pushing it into `dest`
  // (which receives the rest): what a thief that is about to run something wants.
  StealResult<T> steal_batch_and_pop(WorkStealingDeque& dest, std::size_t max_count) noexcept {
    T first{};
    const StealResult<std::size_t> result = steal_many(dest, max_count, &first);
    if (result.is_success()) return StealResult<T>::success(first);
    return result.is_retry() ? StealResult<T>::retry() : StealResult<T>::empty();
  }

  // Any thread. A snapshot that may be stale when it returns.
  std::size_t size_approx() const noexcept {
    // Relaxed: a statistic; nothing is read on the strength of it.
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    const std::int64_t t = top_->load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }

  // Owner only: the current buffer's capacity.
  std::size_t capacity() const noexcept { return static_cast<std::size_t>(current_->capacity); }

 private:
  // A circular array of slots. Slots are atomics because a thief may read a slot while the owner
  // writes it (the thief's CAS then fails and it discards what it read).
  struct Buffer {
    Buffer(std::int64_t cap, std::unique_ptr<Buffer> retired)
        : capacity(cap),
          mask(cap - 1),
          slots(std::make_unique<std::atomic<T>[]>(static_cast<std::size_t>(cap))),
          previous(std::move(retired)) {}

    // Relaxed (both): a slot is published by the release store of bottom (push) or of the buffer
    // pointer (grow), and claimed by the CAS on top; the slot access itself needs no ordering.
    T load(std::int64_t index) const noexcept {
      return slots[static_cast<std::size_t>(index & mask)].load(std::memory_order_relaxed);
    }
    void store(std::int64_t index, T value) noexcept {
      slots[static_cast<std::size_t>(index & mask)].store(value, std::memory_order_relaxed);
    }

    const std::int64_t capacity;
    const std::int64_t mask;
    const std::unique_ptr<std::atomic<T>[]> slots;
    const std::unique_ptr<Buffer> previous;  // retired buffer, kept alive for late thieves
  };

  // ThreadSanitizer does not model std::atomic_thread_fence (g++ warns with -Wtsan). The fences
  // here order atomic accesses only; the happens-before that protects users' data goes through the
  // release/acquire pairs on bottom, the buffer pointer and top, which TSan does see.
  static void seq_cst_fence() noexcept {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wtsan"
#endif
    std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  }

  // Owner only. Replaces a full buffer by one twice its size holding elements [t, b).
  void grow(std::int64_t b, std::int64_t t) noexcept {
    const std::int64_t capacity = current_->capacity;
    auto bigger = std::make_unique<Buffer>(capacity * 2, std::move(current_));
    for (std::int64_t i = t; i < b; ++i) bigger->store(i, bigger->previous->load(i));
    current_ = std::move(bigger);
    owner_->slots = current_->slots.get();
    owner_->mask = current_->mask;
    // Release: publishes the copied slots to thieves that acquire the buffer pointer in steal().
    owner_->buffer.store(current_.get(), std::memory_order_release);
  }

  // Steals up to min(max_count, ceil(size / 2)) elements, one CAS each: the first into *first if
  // first != nullptr, the others pushed into dest. One CAS for the whole range would be wrong for
  // Chase-Lev: pop() takes elements other than the last without a CAS, so after a thief reads
  // bottom the owner may pop into the range the thief is about to claim. Each element is therefore
  // claimed as in steal(), re-reading bottom after a fence every time (crossbeam's LIFO steal_batch
  // does the same).
  StealResult<std::size_t> steal_many(WorkStealingDeque& dest, std::size_t max_count,
                                      T* first) noexcept {
    if (max_count == 0) return StealResult<std::size_t>::empty();
    // Acquire / fence / acquire: exactly as in steal(); see the comments there.
    std::int64_t t = top_->load(std::memory_order_acquire);
    seq_cst_fence();
    std::int64_t b = owner_->bottom.load(std::memory_order_acquire);
    if (b - t <= 0) return StealResult<std::size_t>::empty();
    const std::int64_t want =
        std::min<std::int64_t>((b - t + 1) / 2, static_cast<std::int64_t>(max_count));
    std::size_t moved = 0;
    for (std::int64_t i = 0; i < want; ++i) {
      if (i > 0) {
        // Fence then acquire load of bottom: as in steal(). Our top value is current (our CAS).
        seq_cst_fence();
        b = owner_->bottom.load(std::memory_order_acquire);
        if (b - t <= 0) break;
      }
      // Acquire: pairs with grow()'s release store, as in steal().
      const Buffer* buffer = owner_->buffer.load(std::memory_order_acquire);
      const T value = buffer->load(t);
      // SeqCst / relaxed: as in steal().
      if (!top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
        break;
      }
      if (moved == 0 && first != nullptr) {
        *first = value;
      } else {
        dest.push(value);
      }
      ++moved;
      ++t;
    }
    if (moved == 0) return StealResult<std::size_t>::retry();
    return StealResult<std::size_t>::success(moved);
  }

  struct OwnerSide {
    std::atomic<std::int64_t> bottom{0};   // next slot the owner writes; written by the owner only
    std::atomic<Buffer*> buffer{nullptr};  // current buffer; written by the owner only (grow)
    // The owner's private copies of current_->slots and ->mask (one load less per push and pop).
    std::atomic<T>* slots = nullptr;
    std::int64_t mask = 0;
    // The owner's copy of top, a lower bound of it (top only grows), read with acquire (see
    // push()). Refreshed only when push() finds the deque apparently full, and by every fenced
    // pop().
    std::int64_t cached_top = 0;
  };

  CachePadded<std::atomic<std::int64_t>> top_{0};  // oldest element; advanced by CAS
  CachePadded<OwnerSide> owner_;
  std::unique_ptr<Buffer> current_;  // owns the current buffer, which owns the retired ones
};

}  // namespace zap::zync
