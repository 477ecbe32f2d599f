// TimerHeap: a binary min-heap of Operations by absolute expiry (Operation::ts_[0], monotonic ns),
// for the epoll backend's timers and deadlines and the io_uring backend's deadlines. Intrusive:
// each op stores its 1-based position in heap_index_ (0 = not in the heap), so removal on cancel or
// completion is O(log n). The vector only grows (to the peak number of armed timers): no allocation
// in steady state.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "zap/zio/operation.hpp"

namespace zap::zio::detail {

class TimerHeap {
 public:
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] Operation* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  [[nodiscard]] static std::int64_t expiry(const Operation& op) noexcept { return op.ts_[0]; }
  [[nodiscard]] static bool contains(const Operation& op) noexcept { return op.heap_index_ != 0; }

  void reserve(std::size_t capacity) { heap_.reserve(capacity); }

  void push(Operation& op, std::int64_t expiry_ns) {
    op.ts_[0] = expiry_ns;
    heap_.push_back(&op);
    op.heap_index_ = static_cast<std::uint32_t>(heap_.size());
    sift_up(heap_.size() - 1);
  }

  void remove(Operation& op) noexcept {
    if (op.heap_index_ == 0) return;
    const std::size_t i = op.heap_index_ - 1;
    op.heap_index_ = 0;
    Operation* last = heap_.back();
    heap_.pop_back();
    if (last == &op) return;
    heap_[i] = last;
    last->heap_index_ = static_cast<std::uint32_t>(i + 1);
    sift_down(i);
    sift_up(last->heap_index_ - 1);
  }

 private:
  bool less(std::size_t a, std::size_t b) const noexcept {
    return heap_[a]->ts_[0] < heap_[b]->ts_[0];
  }
  void swap_at(std::size_t a, std::size_t b) noexcept {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->heap_index_ = static_cast<std::uint32_t>(a + 1);
    heap_[b]->heap_index_ = static_cast<std::uint32_t>(b + 1);
  }
  void sift_up(std::size_t i) noexcept {
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!less(i, parent)) break;
      swap_at(i, parent);
      i = parent;
    }
  }
  void sift_down(std::size_t i) noexcept {
    for (;;) {
      std::size_t best = i;
      const std::size_t l = 2 * i + 1, r = l + 1;
      if (l < heap_.size() && less(l, best)) best = l;
      if (r < heap_.size() && less(r, best)) best = r;
      if (best == i) break;
      swap_at(i, best);
      i = best;
    }
  }

  std::vector<Operation*> heap_;
};

}  // namespace zap::zio::detail
