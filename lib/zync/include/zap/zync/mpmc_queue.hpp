// MpmcQueue<T>: a bounded multi-producer multi-consumer FIFO queue (Dmitry Vyukov's design).
//
// For a fixed-size channel between any number of threads, e.g. a shared submission queue. Capacity
// is rounded up to a power of two and allocated once, at construction. try_push() fails when the
// queue is full, try_pop() when it is empty; neither blocks, allocates or throws.
//
//   zap::zync::MpmcQueue<Job*> queue(4096);
//   // any producer thread:
//   while (!queue.try_push(job)) backoff.snooze();
//   // any consumer thread:
//   Job* next;
//   if (queue.try_pop(next)) run(next);
//
// Thread-safety: every member function may be called from any number of threads concurrently,
// except construction and destruction.
//
// Design: each cell carries a sequence number. A cell at index i is free for the producer that
// claims position pos (pos & mask == i) when sequence == pos, and holds an element for the consumer
// that claims position pos when sequence == pos + 1. A producer claims a position with a CAS on
// enqueue_pos_, constructs the element, then stores sequence = pos + 1 (release); a consumer claims
// with a CAS on dequeue_pos_, moves the element out, then stores sequence = pos + capacity
// (release), which frees the cell for the producer of the next lap. Producers and consumers
// therefore meet only on the cells, never on each other's position counter.
//
// Progress: not strictly lock-free. A producer (consumer) preempted between its claim and its
// sequence store makes consumers (producers) of that one cell see "empty" ("full") until it
// resumes.
//
// Cells are 64-byte aligned (one cell per line for small T), so that neighbouring producers and
// consumers, which work on consecutive cells, do not write the same line. 64 rather than the 128 of
// CachePadded: cells are many, and same-line sharing is what costs most.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "zap/zync/cache_padded.hpp"

namespace zap::zync {

template <typename T>
class MpmcQueue {
  static_assert(std::is_nothrow_move_constructible_v<T>, "MpmcQueue<T>: T must not throw on move");
  static_assert(std::is_nothrow_destructible_v<T>, "MpmcQueue<T>: T must not throw on destruction");

 public:
  static constexpr std::size_t kCellAlignment = 64;

  // Allocates max(capacity, 2) rounded up to a power of two cells. (One cell would make "full"
  // and "holds the element of this lap" indistinguishable: sequence pos+1 == next lap's pos.)
  explicit MpmcQueue(std::size_t capacity)
      : capacity_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)),
        mask_(capacity_ - 1),
        cells_(std::make_unique<Cell[]>(capacity_)) {
    for (std::size_t i = 0; i < capacity_; ++i) {
      // Relaxed: the queue is not shared yet; handing it to other threads publishes it.
      cells_[i].sequence.store(i, std::memory_order_relaxed);
    }
  }

  MpmcQueue(const MpmcQueue&) = delete;
  MpmcQueue& operator=(const MpmcQueue&) = delete;

  ~MpmcQueue() {
    // All threads are done with the queue; relaxed reads suffice.
    const std::size_t end = enqueue_pos_->load(std::memory_order_relaxed);
    for (std::size_t pos = dequeue_pos_->load(std::memory_order_relaxed); pos != end; ++pos) {
      cells_[pos & mask_].element()->~T();
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // Returns false (and leaves `value` untouched) when the queue is full.
  bool try_push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return emplace_impl(value);
  }
  bool try_push(T&& value) noexcept { return emplace_impl(std::move(value)); }
  template <typename... Args>
  bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    return emplace_impl(std::forward<Args>(args)...);
  }

  // Moves the oldest element into `out`; false when the queue is empty.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    const Claim claim = claim_for_pop();
    if (claim.cell == nullptr) return false;
    out = std::move(*claim.cell->element());
    release_after_pop(claim);
    return true;
  }

  std::optional<T> try_pop() noexcept {
    const Claim claim = claim_for_pop();
    if (claim.cell == nullptr) return std::nullopt;
    std::optional<T> result(std::move(*claim.cell->element()));
    release_after_pop(claim);
    return result;
  }

  // Approximate number of elements (claimed positions); may be stale when it returns.
  std::size_t size_approx() const noexcept {
    // Relaxed: a statistic; no data is read on the strength of it. Dequeue is read first so the
    // difference does not underflow (enqueue_pos_ >= dequeue_pos_ at any instant, and grows).
    const std::size_t head = dequeue_pos_->load(std::memory_order_relaxed);
    const std::size_t tail = enqueue_pos_->load(std::memory_order_relaxed);
    const std::size_t size = tail - head;
    return size < capacity_ ? size : capacity_;
  }

 private:
  struct alignas(kCellAlignment) Cell {
    std::atomic<std::size_t> sequence{0};
    alignas(T) std::byte bytes[sizeof(T)];

    T* element() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
  };

  // A cell a consumer has won, with the position it won it at.
  struct Claim {
    Cell* cell = nullptr;
    std::size_t pos = 0;
  };

  using Diff = std::make_signed_t<std::size_t>;

  template <typename... Args>
  bool emplace_impl(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    // Relaxed: the position is only a hint of where to try; the cell's sequence decides.
    std::size_t pos = enqueue_pos_->load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      // Acquire: synchronizes with the release store of the consumer that emptied this cell on the
      // previous lap, so its move-out and destruction happen-before our construction.
      const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
      const Diff diff = static_cast<Diff>(seq - pos);
      if (diff == 0) {
        // Relaxed: the CAS only arbitrates which producer owns position pos; the element is
        // published by the sequence store below, and the cell was acquired through `seq` above.
        if (enqueue_pos_->compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                                std::memory_order_relaxed)) {
          break;
        }
        // CAS failure reloaded pos; retry with it.
      } else if (diff < 0) {
        return false;  // the cell still holds the element of the previous lap: full
      } else {
        // Another producer claimed pos already. Relaxed: only a newer hint, as above.
        pos = enqueue_pos_->load(std::memory_order_relaxed);
      }
    }
    ::new (static_cast<void*>(cell->bytes)) T(std::forward<Args>(args)...);
    // Release: publishes the constructed element to the consumer's acquire load of the sequence.
    cell->sequence.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Claims the oldest full cell for this consumer; cell == nullptr when the queue is empty.
  Claim claim_for_pop() noexcept {
    // Relaxed: a hint, as in emplace_impl(); the cell's sequence decides.
    std::size_t pos = dequeue_pos_->load(std::memory_order_relaxed);
    for (;;) {
      Cell* cell = &cells_[pos & mask_];
      // Acquire: synchronizes with the producer's release store of pos + 1, so the element it
      // constructed is visible to us.
      const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
      const Diff diff = static_cast<Diff>(seq - (pos + 1));
      if (diff == 0) {
        // Relaxed: arbitration only; the element was acquired through `seq` above.
        if (dequeue_pos_->compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                                std::memory_order_relaxed)) {
          return Claim{cell, pos};
        }
      } else if (diff < 0) {
        return Claim{};  // no producer has filled this position yet: empty
      } else {
        // Another consumer took pos. Relaxed: only a newer hint.
        pos = dequeue_pos_->load(std::memory_order_relaxed);
      }
    }
  }

  void release_after_pop(const Claim& claim) noexcept {
    claim.cell->element()->~T();
    // Release: publishes that the cell is empty (our move-out and destruction are done) to the
    // producer of the next lap, which acquires the sequence before constructing into it.
    claim.cell->sequence.store(claim.pos + capacity_, std::memory_order_release);
  }

  // Read-only after construction.
  const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<Cell[]> cells_;
  CachePadded<std::atomic<std::size_t>> enqueue_pos_{0};
  CachePadded<std::atomic<std::size_t>> dequeue_pos_{0};
};

}  // namespace zap::zync
