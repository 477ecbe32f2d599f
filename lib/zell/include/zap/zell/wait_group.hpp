// WaitGroup: wait, inside a task, until a count of outstanding jobs drops to zero (Go's
// sync.WaitGroup, awaitable).
//
//   zap::zell::WaitGroup wg;
//   wg.add(n);
//   for (int i = 0; i < n; ++i) zap::zell::spawn(work(wg)).detach();   // each calls wg.done()
//   co_await wg.wait();
//
// done() is one atomic decrement unless it is the last one, which wakes the waiting task. One
// task waits at a time. A cancelled waiter is withdrawn (and dropped).
// Thread-safety: add()/done() from any thread or task; wait() from one task at a time. The
// WaitGroup must outlive every done() and the wait.
#pragma once

#include <atomic>
#include <cassert>
#include <coroutine>
#include <cstdint>
#include <mutex>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell {

class WaitGroup {
 public:
  WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(std::int64_t n = 1) noexcept {
    // Relaxed: the adder hands the jobs (and so their done()) out after this, by other means
    // that synchronize; the count itself carries no data.
    count_.fetch_add(n, std::memory_order_relaxed);
  }
  void done() noexcept {
    // AcqRel: release publishes this job's writes to the waiter (which acquires the count);
    // acquire makes the last done() see the other jobs' writes before it wakes the waiter.
    if (count_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    detail::TaskHeader* wake = nullptr;
    {
      std::lock_guard guard(lock_);
      wake = waiter_task_;
      waiter_task_ = nullptr;
    }
    if (wake != nullptr) {
      detail::end_wait(wake);
      detail::schedule(wake);
    }
  }
  std::int64_t count() const noexcept {
    return count_.load(std::memory_order_acquire);  // acquire: see done()
  }

  auto wait() noexcept {
    struct Awaiter {
      WaitGroup* group;
      bool await_ready() const noexcept { return group->count() == 0; }
      bool await_suspend(std::coroutine_handle<> handle) noexcept {
        detail::TaskHeader* task = detail::current_task();
        assert(task != nullptr && "WaitGroup::wait() awaited outside a task");
        task->resume_point = handle;
        group->waiter_.try_cancel = &try_cancel;
        group->waiter_.context = group;
        // waiter_task_ is published under the task's wait lock (then the group's): a canceller
        // finds it in try_cancel, or finds no wait and leaves its flag for begin_wait.
        const detail::WaitStart start = detail::begin_wait_publishing(task, &group->waiter_, [&] {
          std::lock_guard guard(group->lock_);
          if (group->count() == 0) return false;
          group->waiter_task_ = task;
          return true;
        });
        if (start == detail::WaitStart::kCancelled) {
          detail::schedule(task);  // cancelled: run once more, to be dropped
          return true;
        }
        return start == detail::WaitStart::kWaiting;  // kReady: the count reached zero meanwhile
      }
      void await_resume() const noexcept {}
    };
    return Awaiter{this};
  }

 private:
  static bool try_cancel(detail::Waiter* waiter) noexcept {
    auto* self = static_cast<WaitGroup*>(waiter->context);
    std::lock_guard guard(self->lock_);
    if (self->waiter_task_ == nullptr) return false;  // done() took it: it will schedule
    self->waiter_task_ = nullptr;
    return true;
  }

  std::atomic<std::int64_t> count_{0};
  zync::Mutex lock_;
  detail::TaskHeader* waiter_task_ = nullptr;  // guarded by lock_
  detail::Waiter waiter_;
};

}  // namespace zap::zell
