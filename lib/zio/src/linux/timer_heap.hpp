// TimerHeap: a min-heap of Operations by absolute expiry (monotonic ns), for the epoll backend's
// timers and deadlines and the io_uring backend's deadlines. Intrusive: each op stores its
// 1-based position in heap_index_ (0 = not in the heap), so removal on cancel or completion is
// O(log n). The vector only grows (to the peak number of armed timers): no allocation in steady
// state.
//
// Shaped for how deadlines are used: nearly every one is removed (its op completed) long before
// it expires, so remove() is the hot call -- with thousands of connections, each with a recv
// deadline, it was 4 % of zap-echo's time. Each entry carries its expiry next to the op pointer,
// so that comparisons read the contiguous vector instead of chasing every op's memory, and the
// heap is 4-ary (half the levels of a binary one; a node's children sit side by side).
// Moves go through a hole: an entry displaced along a path is written once, not swapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zap/zio/operation.hpp"

namespace zap::zio::detail {

class TimerHeap {
 public:
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] Operation* top() const noexcept {
    return heap_.empty() ? nullptr : heap_.front().op;
  }
  [[nodiscard]] static std::int64_t expiry(const Operation& op) noexcept { return op.ts_[0]; }
  [[nodiscard]] static bool contains(const Operation& op) noexcept { return op.heap_index_ != 0; }

  void reserve(std::size_t capacity) { heap_.reserve(capacity); }

  void push(Operation& op, std::int64_t expiry_ns) {
    op.ts_[0] = expiry_ns;  // (expiry() reads it; the heap uses its own copy)
    heap_.push_back({expiry_ns, &op});
    sift_up(heap_.size() - 1, heap_.back());
  }

  void remove(Operation& op) noexcept {
    if (op.heap_index_ == 0) return;
    const std::size_t i = op.heap_index_ - 1;
    op.heap_index_ = 0;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;  // it was the last entry
    // `last` fills the hole at i: up if it expires before the hole's parent, else down.
    if (i > 0 && last.expiry < heap_[(i - 1) / kArity].expiry) {
      sift_up(i, last);
    } else {
      sift_down(i, last);
    }
  }

 private:
  static constexpr std::size_t kArity = 4;

  struct Entry {
    std::int64_t expiry;
    Operation* op;
  };

  void place(std::size_t i, const Entry& entry) noexcept {
    heap_[i] = entry;
    entry.op->heap_index_ = static_cast<std::uint32_t>(i + 1);
  }
  // `moving` goes into the hole at i, or above it.
  void sift_up(std::size_t i, Entry moving) noexcept {
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (heap_[parent].expiry <= moving.expiry) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, moving);
  }
  // `moving` goes into the hole at i, or below it.
  void sift_down(std::size_t i, Entry moving) noexcept {
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = kArity * i + 1;
      if (first >= n) break;
      const std::size_t end = first + kArity < n ? first + kArity : n;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c) {
        if (heap_[c].expiry < heap_[best].expiry) best = c;
      }
      if (heap_[best].expiry >= moving.expiry) break;
      place(i, heap_[best]);
      i = best;
    }
    place(i, moving);
  }

  std::vector<Entry> heap_;
};

}  // namespace zap::zio::detail
