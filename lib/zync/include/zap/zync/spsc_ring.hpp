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
// Thread-safety: at any time at most one thread may call the producer side (try_push) and at most
// one thread the consumer side (try_pop); the two may run concurrently. capacity() is safe
// anywhere; size_approx() and empty_approx() may be stale by the time they return.
//
// Design: head_ (next slot to read, written by the consumer) and tail_ (next slot to write, written
// by the producer) are free-running counters on separate 128-byte lines. Each side also keeps a
// private copy of the other side's counter on its own line and re-reads the shared one only when
// the copy says full (producer) or empty (consumer), so in steady state neither side touches the
// other's cache line. Indices are std::size_t and never wrap in practice (2^64 operations).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
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
        mask_(capacity_ - 1),
        slots_(std::make_unique<Slot[]>(capacity_)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  ~SpscRing() {
    // The destructor runs after both threads are done (joined), so relaxed reads suffice.
    const std::size_t tail = producer_->tail.load(std::memory_order_relaxed);
    for (std::size_t i = consumer_->head.load(std::memory_order_relaxed); i != tail; ++i) {
      slot(i)->~T();
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

  // Consumer only. Moves the oldest element into `out`; false when the ring is empty.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    // Relaxed: only this (consumer) thread writes head.
    const std::size_t head = consumer_->head.load(std::memory_order_relaxed);
    if (head == consumer_->cached_tail) {
      // Acquire: synchronizes with the producer's release store of tail in emplace_impl(), so the
      // element constructed in slot(head) is visible before we read it.
      consumer_->cached_tail = producer_->tail.load(std::memory_order_acquire);
      if (head == consumer_->cached_tail) return false;
    }
    T* element = slot(head);
    out = std::move(*element);
    element->~T();
    // Release: publishes that we are done with slot(head) (read and destroyed) to the producer's
    // acquire load of head, before it constructs a new element there.
    consumer_->head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer only. The oldest element, or nullopt when the ring is empty.
  std::optional<T> try_pop() noexcept {
    // Same protocol as try_pop(T&); see the comments there.
    const std::size_t head = consumer_->head.load(std::memory_order_relaxed);  // own index
    if (head == consumer_->cached_tail) {
      // Acquire: pairs with the producer's release store of tail (element is constructed).
      consumer_->cached_tail = producer_->tail.load(std::memory_order_acquire);
      if (head == consumer_->cached_tail) return std::nullopt;
    }
    T* element = slot(head);
    std::optional<T> result(std::move(*element));
    element->~T();
    // Release: pairs with the producer's acquire load of head (slot is free for reuse).
    consumer_->head.store(head + 1, std::memory_order_release);
    return result;
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

  struct ProducerSide {
    std::atomic<std::size_t> tail{0};  // next index to write; written by the producer only
    std::size_t cached_head = 0;       // producer's private copy of consumer's head
  };
  struct ConsumerSide {
    std::atomic<std::size_t> head{0};  // next index to read; written by the consumer only
    std::size_t cached_tail = 0;       // consumer's private copy of producer's tail
  };

  T* slot(std::size_t index) noexcept {
    return std::launder(reinterpret_cast<T*>(slots_[index & mask_].bytes));
  }

  template <typename... Args>
  bool emplace_impl(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    // Relaxed: only this (producer) thread writes tail.
    const std::size_t tail = producer_->tail.load(std::memory_order_relaxed);
    if (tail - producer_->cached_head == capacity_) {
      // Acquire: synchronizes with the consumer's release store of head in try_pop(), so its read
      // and destruction of the element in slot(tail) happen-before we construct a new one there.
      producer_->cached_head = consumer_->head.load(std::memory_order_acquire);
      if (tail - producer_->cached_head == capacity_) return false;
    }
    ::new (static_cast<void*>(slots_[tail & mask_].bytes)) T(std::forward<Args>(args)...);
    // Release: publishes the constructed element to the consumer's acquire load of tail.
    producer_->tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Read-only after construction; shared by both sides without contention.
  const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<Slot[]> slots_;
  CachePadded<ProducerSide> producer_;
  CachePadded<ConsumerSide> consumer_;
};

}  // namespace zap::zync
