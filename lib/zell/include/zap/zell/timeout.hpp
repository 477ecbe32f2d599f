// timeout(duration, task): runs `task`, giving up (and cancelling it) after `duration`.
//
//   std::optional<int> v = co_await zap::zell::timeout(std::chrono::milliseconds(50), fetch());
//   if (!v) { /* timed out: fetch() was cancelled, its frames are gone */ }
//   bool finished = co_await zap::zell::timeout(1s, work());   // Task<void> version
//
// The task runs as a child task (it may be stolen) while a watchdog sleeps; whichever ends first
// wins. timeout() returns only once the child is gone, so the child may use the caller's locals.
// An exception thrown by the task is rethrown by timeout().
// Thread-safety: call from a task.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/task.hpp"
#include "zap/zell/task_group.hpp"

namespace zap::zell {

namespace detail {
template <typename T>
Task<void> timeout_body(Task<T> task, std::optional<T>& out) {
  out.emplace(co_await std::move(task));
}
inline Task<void> timeout_body(Task<void> task, bool& out) {
  co_await std::move(task);
  out = true;
}
inline Task<void> cancel_after(std::int64_t deadline_ns, std::shared_ptr<GroupState> group) {
  co_await SleepAwaiter(deadline_ns);
  group->cancel_all();
}
template <typename Out, typename T>
Task<void> run_with_deadline(std::int64_t deadline_ns, Task<T> task, Out& out) {
  TaskGroup group;
  group.spawn(timeout_body(std::move(task), out));
  JoinHandle<void> watchdog = zell::spawn(cancel_after(deadline_ns, group.state()));
  // Also when this frame is dropped (the caller cancelled): the watchdog must not sleep on to
  // its deadline, holding the group.
  struct CancelWatchdog {
    JoinHandle<void>& handle;
    ~CancelWatchdog() { handle.cancel(); }
  } cancel_watchdog{watchdog};
  std::exception_ptr error;
  try {
    co_await group.wait();
  } catch (...) {
    error = std::current_exception();
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

template <typename T, typename Rep, typename Period>
Task<std::optional<T>> timeout(std::chrono::duration<Rep, Period> duration, Task<T> task) {
  const std::int64_t deadline =
      detail::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  std::optional<T> out;
  co_await detail::run_with_deadline(deadline, std::move(task), out);
  co_return std::move(out);
}

template <typename Rep, typename Period>
Task<bool> timeout(std::chrono::duration<Rep, Period> duration, Task<void> task) {
  const std::int64_t deadline =
      detail::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  bool finished = false;
  co_await detail::run_with_deadline(deadline, std::move(task), finished);
  co_return finished;
}

}  // namespace zap::zell
