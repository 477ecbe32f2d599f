// yield(): lets the other runnable tasks of this worker run before the caller continues.
//
//   while (busy()) { crunch(); co_await zap::zell::yield(); }
//
// The yielding task goes behind every other local task (it is not run again right away, as a
// LIFO wake-up would be). A cancelled task is dropped at its yield.
// Thread-safety: call from a task.
#pragma once

#include <coroutine>

#include "zap/zell/detail/task_header.hpp"

namespace zap::zell {

struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) const noexcept {
    detail::TaskHeader* task = detail::current_task();
    task->resume_point = handle;
    detail::schedule_yield(task);
  }
  void await_resume() const noexcept {}
};

[[nodiscard]] inline YieldAwaiter yield() noexcept { return {}; }

}  // namespace zap::zell
