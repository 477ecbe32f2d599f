// TimerHeap: a worker's armed timers, a binary min-heap on deadline with O(log n) removal.
// Single-threaded: the owning worker only.
#pragma once

#include <cstdint>
#include <vector>

#include "zap/zell/detail/timer_entry.hpp"

namespace zap::zell::detail {

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  // Deadline of the earliest timer; precondition: !empty().
  std::int64_t next_deadline() const noexcept { return heap_.front()->deadline_ns; }

  void push(TimerEntry* entry) {
    heap_.push_back(entry);
    entry->heap_slot = static_cast<std::uint32_t>(heap_.size());
    sift_up(heap_.size() - 1);
  }

  void remove(TimerEntry* entry) noexcept {
    if (entry->heap_slot == 0) return;
    const std::size_t i = entry->heap_slot - 1;
    entry->heap_slot = 0;
    TimerEntry* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    heap_[i] = last;
    last->heap_slot = static_cast<std::uint32_t>(i + 1);
    if (i > 0 && heap_[(i - 1) / 2]->deadline_ns > last->deadline_ns) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  }

  // Removes and returns the earliest timer if it is due at `now`, else nullptr.
  TimerEntry* pop_due(std::int64_t now) noexcept {
    if (heap_.empty() || heap_.front()->deadline_ns > now) return nullptr;
    TimerEntry* first = heap_.front();
    remove(first);
    return first;
  }

 private:
  void place(std::size_t i, TimerEntry* entry) noexcept {
    heap_[i] = entry;
    entry->heap_slot = static_cast<std::uint32_t>(i + 1);
  }
  void sift_up(std::size_t i) noexcept {
    TimerEntry* entry = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (heap_[parent]->deadline_ns <= entry->deadline_ns) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, entry);
  }
  void sift_down(std::size_t i) noexcept {
    TimerEntry* entry = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1]->deadline_ns < heap_[child]->deadline_ns) ++child;
      if (entry->deadline_ns <= heap_[child]->deadline_ns) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, entry);
  }

  std::vector<TimerEntry*> heap_;
};

}  // namespace zap::zell::detail
