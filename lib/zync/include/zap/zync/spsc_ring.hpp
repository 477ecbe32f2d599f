// SpscRing<T>: a bounded single-producer single-consumer FIFO ring buffer.
//
// For handing items from exactly one thread to exactly one other thread without locks, e.g. an IO
// thread feeding a worker. The capacity is rounded up to a power of two and fixed at construction
// (the only allocation); try_push() fails when the ring is full, try_pop() when it is empty.
//
//   zap::zync::SpscRing<int> ring(1024);
//   // producer thread:
//   if (!ring.try_push(42)) { /* full: retry later */ }
//   // consumer thread:
//   int value;
//   if (ring.try_pop(value)) { /* use value */ }
//
// Batches: try_push_many() / try_pop_many() move up to a span's worth of elements with one
// publication of the index for the whole batch (one release store instead of one per element).
//
// Thread-safety: at any time at most one thread may call the producer side (try_push,
// try_emplace, try_push_many) and at most one thread the consumer side (try_pop, try_pop_many);
// the two may run concurrently. capacity() is safe anywhere; size_approx() and empty_approx() may
// be stale by the time they return.
//
// Design: head (next slot to read, written by the consumer) and tail (next slot to write, written
// by the producer) are free-running counters, each on its own 128-byte line together with
// everything its owner touches on every operation: a private copy of the other side's counter
// that it refreshes only when the copy says full (producer) or empty (consumer), and copies of the
// slot pointer and mask. The owner reads its own counter with a relaxed load, which is a plain
// load (mov / ldr): only the owner writes it, so it always reads its own last store. (A separate
// plain copy of it was tried and measured slower: it costs a second store per operation, since
// GCC does not keep values in registers across the release store that ends each operation.) In
// steady state each side reads and writes its own line and the slots, and touches the other side's
// line only when the ring looks full or empty. Each operation reads those fields into locals once,
// before the element is constructed or moved: a T store may alias a std::size_t (e.g. T =
// std::uint64_t), so anything read after it would be reloaded. Indices are std::size_t and never
// wrap in practice (2^64 operations).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "zap/zync/cache_padded.hpp"

namespace zap::zync {

template <typename T>
class SpscRing {
  static_assert(std::is_nothrow_move_constructible_v<T>, "SpscRing<T>: T must not throw on move");
  static_assert(std::is_nothrow_destructible_v<T>, "SpscRing<T>: T must not throw on destruction");

 public:
  // Allocates max(capacity, 1) rounded up to a power of two slots.
  explicit SpscRing(std::size_t capacity)
      : capacity_(std::bit_ceil(capacity == 0 ? std::size_t{1} : capacity)),
        slots_(std::make_unique<Slot[]>(capacity_)) {
    producer_->slots = slots_.get();
    producer_->mask = capacity_ - 1;
    consumer_->slots = slots_.get();
    consumer_->mask = capacity_ - 1;
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  ~SpscRing() {
    // The destructor runs after both threads are done (joined), so relaxed reads suffice.
    const std::size_t tail = producer_->tail.load(std::memory_order_relaxed);
    for (std::size_t i = consumer_->head.load(std::memory_order_relaxed); i != tail; ++i) {
      element(slots_.get(), capacity_ - 1, i)->~T();
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // Producer only. Returns false (and leaves `value` untouched) when the ring is full.
  bool try_push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return emplace_impl(value);
  }
  bool try_push(T&& value) noexcept { return emplace_impl(std::move(value)); }
  template <typename... Args>
  bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    return emplace_impl(std::forward<Args>(args)...);
  }

  // Producer only. Copies the longest prefix of `values` that fits, oldest first, and returns its
  // length (0 when the ring is full). The whole prefix becomes visible to the consumer at once.
  std::size_t try_push_many(
      std::span<const T> values) noexcept requires std::is_nothrow_copy_constructible_v<T> {
    ProducerSide& p = *producer_;
    // Relaxed: only this (producer) thread writes tail.
    const std::size_t tail = p.tail.load(std::memory_order_relaxed);
    std::size_t free = p.mask + 1 - (tail - p.cached_head);
    if (free < values.size()) {
      // Acquire: as in emplace_impl(); the consumer is done with every slot below the new head.
      p.cached_head = consumer_->head.load(std::memory_order_acquire);
      free = p.mask + 1 - (tail - p.cached_head);
    }
    const std::size_t count = std::min(free, values.size());
    Slot* const slots = p.slots;
    const std::size_t mask = p.mask;
    for (std::size_t i = 0; i < count; ++i) {
      ::new (static_cast<void*>(slots[(tail + i) & mask].bytes)) T(values[i]);
    }
    // Release: publishes the constructed elements to the consumer's acquire load of tail.
    if (count != 0) p.tail.store(tail + count, std::memory_order_release);
    return count;
  }

  // Consumer only. Moves the oldest element into `out`; false when the ring is empty.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    ConsumerSide& c = *consumer_;
    // Relaxed: only this (consumer) thread writes head.
    const std::size_t head = c.head.load(std::memory_order_relaxed);
    if (head == c.cached_tail && !refresh_tail(c, head)) return false;
    T* const item = element(c.slots, c.mask, head);
    out = std::move(*item);
    item->~T();
    release_head(c, head + 1);
    return true;
  }

  // Consumer only. The oldest element, or nullopt when the ring is empty.
  std::optional<T> try_pop() noexcept {
    ConsumerSide& c = *consumer_;
    // Relaxed: only this (consumer) thread writes head.
    const std::size_t head = c.head.load(std::memory_order_relaxed);
    if (head == c.cached_tail && !refresh_tail(c, head)) return std::nullopt;
    T* const item = element(c.slots, c.mask, head);
    std::optional<T> result(std::move(*item));
    item->~T();
    release_head(c, head + 1);
    return result;
  }

  // Consumer only. Moves up to out.size() of the oldest elements into `out`, oldest first, and
  // returns how many (0 when the ring is empty). The slots are handed back to the producer at once.
  std::size_t try_pop_many(
      std::span<T> out) noexcept requires std::is_nothrow_move_assignable_v<T> {
    ConsumerSide& c = *consumer_;
    // Relaxed: only this (consumer) thread writes head.
    const std::size_t head = c.head.load(std::memory_order_relaxed);
    if (c.cached_tail - head < out.size()) {
      // Acquire: as in refresh_tail(); every element below the new tail is constructed.
      c.cached_tail = producer_->tail.load(std::memory_order_acquire);
    }
    const std::size_t count = std::min(c.cached_tail - head, out.size());
    Slot* const slots = c.slots;
    const std::size_t mask = c.mask;
    for (std::size_t i = 0; i < count; ++i) {
      T* const item = element(slots, mask, head + i);
      out[i] = std::move(*item);
      item->~T();
    }
    if (count != 0) release_head(c, head + count);
    return count;
  }

  // Approximate number of elements; exact only when neither side is running.
  std::size_t size_approx() const noexcept {
    // Acquire on both: pairs with the release stores of the two sides, so the snapshot is at least
    // as new as any push/pop that happened-before this call. Head is read first: tail read later is
    // >= that head, so the difference never underflows (it may be stale by the time it returns).
    const std::size_t head = consumer_->head.load(std::memory_order_acquire);
    const std::size_t tail = producer_->tail.load(std::memory_order_acquire);
    const std::size_t size = tail - head;  // head may be older than tail: clamp
    return size < capacity_ ? size : capacity_;
  }
  bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  struct alignas(T) Slot {
    std::byte bytes[sizeof(T)];
  };

  // Everything the producer touches on a push that does not find the ring full.
  struct ProducerSide {
    std::atomic<std::size_t> tail{0};  // next index to write; written by the producer only
    std::size_t cached_head = 0;       // the producer's copy of head; head only grows, so <= head
    Slot* slots = nullptr;             // == slots_.get()
    std::size_t mask = 0;              // == capacity_ - 1
  };
  // Everything the consumer touches on a pop that does not find the ring empty.
  struct ConsumerSide {
    std::atomic<std::size_t> head{0};  // next index to read; written by the consumer only
    std::size_t cached_tail = 0;       // the consumer's copy of tail; tail only grows, so <= tail
    Slot* slots = nullptr;             // == slots_.get()
    std::size_t mask = 0;              // == capacity_ - 1
  };

  static T* element(Slot* slots, std::size_t mask, std::size_t index) noexcept {
    return std::launder(reinterpret_cast<T*>(slots[index & mask].bytes));
  }

  template <typename... Args>
  bool emplace_impl(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    ProducerSide& p = *producer_;
    // Locals, read before the element is constructed (see the header comment on aliasing).
    // Relaxed: only this (producer) thread writes tail.
    const std::size_t tail = p.tail.load(std::memory_order_relaxed);
    Slot* const slots = p.slots;
    const std::size_t mask = p.mask;
    if (tail - p.cached_head > mask) {
      // Looks full (tail - cached_head == capacity). Acquire: synchronizes with the consumer's
      // release store of head in release_head(), so its read and destruction of the element that
      // was in slot(tail) happen-before we construct a new one there.
      p.cached_head = consumer_->head.load(std::memory_order_acquire);
      if (tail - p.cached_head > mask) return false;
    }
    ::new (static_cast<void*>(slots[tail & mask].bytes)) T(std::forward<Args>(args)...);
    // Release: publishes the constructed element to the consumer's acquire load of tail.
    p.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // The consumer's copy of tail says empty: re-reads tail. False if the ring really is empty.
  bool refresh_tail(ConsumerSide& c, std::size_t head) noexcept {
    // Acquire: synchronizes with the producer's release store of tail in emplace_impl() or
    // try_push_many(), so the elements constructed below that tail are visible before we read them.
    c.cached_tail = producer_->tail.load(std::memory_order_acquire);
    return head != c.cached_tail;
  }

  static void release_head(ConsumerSide& c, std::size_t head) noexcept {
    // Release: publishes that we are done with the slots below head (read and destroyed) to the
    // producer's acquire load of head, before it constructs new elements there.
    c.head.store(head, std::memory_order_release);
  }

  // Read-only after construction: the owner of the slots, and the capacity for capacity(),
  // size_approx() and the destructor. The two sides use their own copies of pointer and mask.
  const std::size_t capacity_;
  const std::unique_ptr<Slot[]> slots_;
  CachePadded<ProducerSide> producer_;
  CachePadded<ConsumerSide> consumer_;
};

}  // namespace zap::zync
