// InjectionQueue: an unbounded FIFO of runnable tasks shared by many workers (one per NUMA node,
// one global), intrusive through TaskHeader::next, under a zync::Mutex. Any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell::detail {

class InjectionQueue {
 public:
  void push(TaskHeader* task) noexcept { push_batch(task, task, 1); }

  // Appends the chain first..last (linked through `next`) of `count` tasks. `now_ns` (when
  // given) stamps the batch for oldest_waited_ns().
  void push_batch(TaskHeader* first, TaskHeader* last, std::size_t count,
                  std::int64_t now_ns = 0) noexcept {
    last->next = nullptr;
    std::lock_guard guard(lock_);
    if (tail_ != nullptr) {
      tail_->next = first;
    } else {
      head_ = first;
      // Relaxed: read under no lock only as a hint (oldest_waited_ns).
      head_since_ns_.store(now_ns, std::memory_order_relaxed);
    }
    tail_ = last;
    // Relaxed: a hint for empty(); the lock publishes the tasks themselves. Waking decisions
    // that depend on it are ordered by seq_cst fences in the scheduler.
    size_.store(size_.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
  }

  TaskHeader* pop() noexcept {
    if (empty()) return nullptr;
    std::lock_guard guard(lock_);
    TaskHeader* task = head_;
    if (task == nullptr) return nullptr;
    head_ = task->next;
    if (head_ == nullptr) tail_ = nullptr;
    task->next = nullptr;
    // The next task's own push time is not kept: it inherits this one's (an overestimate of
    // its wait, which only makes a foreign take a little earlier). Relaxed: a hint.
    size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);  // see push
    return task;
  }

  bool empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }  // see push

  // How long the queue has been non-empty (0 when empty); a hint.
  std::int64_t oldest_waited_ns(std::int64_t now_ns) const noexcept {
    if (empty()) return 0;
    return now_ns - head_since_ns_.load(std::memory_order_relaxed);  // relaxed: a hint
  }

 private:
  zync::Mutex lock_;
  TaskHeader* head_ = nullptr;  // guarded by lock_
  TaskHeader* tail_ = nullptr;  // guarded by lock_
  std::atomic<std::size_t> size_{0};
  std::atomic<std::int64_t> head_since_ns_{0};  // when the queue last became non-empty
};

// A worker-local FIFO (owner thread only), intrusive through TaskHeader::next.
class LocalFifo {
 public:
  void push(TaskHeader* task) noexcept {
    task->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = task;
    } else {
      head_ = task;
    }
    tail_ = task;
  }
  TaskHeader* pop() noexcept {
    TaskHeader* task = head_;
    if (task == nullptr) return nullptr;
    head_ = task->next;
    if (head_ == nullptr) tail_ = nullptr;
    task->next = nullptr;
    return task;
  }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  TaskHeader* head_ = nullptr;
  TaskHeader* tail_ = nullptr;
};

// Live tasks that suspended outside the run queues on one worker (or, rarely, outside the
// workers), so that shutdown can destroy what never finished (see TaskHeader::registry).
// Intrusive through registry_prev/next, under a zync::Mutex: a task that waited on one worker
// may finish on another.
class Registry {
 public:
  void add(TaskHeader* task) noexcept {
    std::lock_guard guard(lock_);
    task->registry = this;
    task->registry_prev = nullptr;
    task->registry_next = head_;
    if (head_ != nullptr) head_->registry_prev = task;
    head_ = task;
  }
  void remove(TaskHeader* task) noexcept {
    std::lock_guard guard(lock_);
    if (task->registry_prev != nullptr) {
      task->registry_prev->registry_next = task->registry_next;
    } else {
      head_ = task->registry_next;
    }
    if (task->registry_next != nullptr) task->registry_next->registry_prev = task->registry_prev;
    task->registry = nullptr;
  }
  // Calls f(task) for every live task, under the lock (shutdown only, when no worker runs).
  template <typename F>
  void for_each(F&& f) noexcept {
    std::lock_guard guard(lock_);
    for (TaskHeader* task = head_; task != nullptr; task = task->registry_next) f(task);
  }
  // The first live task, or nullptr (shutdown only, when no worker runs).
  TaskHeader* first() noexcept {
    std::lock_guard guard(lock_);
    return head_;
  }

 private:
  zync::Mutex lock_;
  TaskHeader* head_ = nullptr;  // guarded by lock_
};

}  // namespace zap::zell::detail
