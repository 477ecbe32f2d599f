// sleep_for / sleep_until: suspend the calling task until a steady-clock time.
//
//   co_await zap::zell::sleep_for(std::chrono::milliseconds(10));
//   co_await zap::zell::sleep_until(deadline);
//
// The timer lives in the awaiting frame and on the worker's timer heap (a binary heap: arm and
// disarm are O(log n), no allocation beyond the heap's growth). The worker sleeps in its reactor
// until the earliest deadline. Cancelling the task removes the timer, on its worker, before the
// frame is destroyed.
// Thread-safety: call from a task.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zell/detail/timer_entry.hpp"

namespace zap::zell {

class SleepAwaiter {
 public:
  explicit SleepAwaiter(std::int64_t deadline_ns) noexcept { entry_.deadline_ns = deadline_ns; }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;

  bool await_ready() const noexcept { return entry_.deadline_ns <= detail::now_ns(); }
  void await_suspend(std::coroutine_handle<> handle) noexcept {
    task_ = detail::current_task();
    worker_ = detail::current_worker();
    task_->resume_point = handle;
    waiter_.owner = worker_;
    waiter_.try_cancel = &try_cancel;
    waiter_.context = this;
    entry_.fire = &fire;
    entry_.context = this;
    if (!detail::begin_wait(task_, &waiter_)) {
      detail::schedule(task_);  // cancelled: run once more, to be dropped
      return;
    }
    detail::timer_arm(worker_, &entry_);
  }
  void await_resume() const noexcept {}

 private:
  static void fire(detail::TimerEntry* entry) noexcept {
    detail::TaskHeader* task = static_cast<SleepAwaiter*>(entry->context)->task_;
    detail::end_wait(task);
    detail::schedule(task);
  }
  static bool try_cancel(detail::Waiter* waiter) noexcept {
    auto* self = static_cast<SleepAwaiter*>(waiter->context);  // on the owning worker
    detail::timer_disarm(self->worker_, &self->entry_);
    return true;
  }

  detail::TimerEntry entry_;
  detail::Waiter waiter_;
  detail::TaskHeader* task_ = nullptr;
  detail::Worker* worker_ = nullptr;
};

[[nodiscard]] inline SleepAwaiter sleep_until(
    std::chrono::steady_clock::time_point deadline) noexcept {
  return SleepAwaiter(
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
}

template <typename Rep, typename Period>
[[nodiscard]] SleepAwaiter sleep_for(std::chrono::duration<Rep, Period> duration) noexcept {
  return SleepAwaiter(detail::now_ns() +
                      std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
}

}  // namespace zap::zell
