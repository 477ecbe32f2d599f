// TaskGroup: structured concurrency -- spawn children, wait for all of them; the first child to
// fail cancels the others, and wait() rethrows its exception.
//
//   zap::zell::TaskGroup group;
//   for (auto& conn : conns) group.spawn(handle(conn));   // children may use the caller's locals
//   co_await group.wait();                                 // all done (or cancelled); rethrows
//
// wait() returns only when every child has finished, so children may refer to the parent's frame.
// If the waiting task is itself cancelled, its children are cancelled and it is dropped only after
// they are all gone. A child that was cancelled (by the group or otherwise) is not an error.
// wait() must be awaited before the TaskGroup is destroyed if any child was spawned.
//
// Thread-safety: spawn() and cancel() from any task; wait() from one task at a time.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/task.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell {

namespace detail {

// Shared by a TaskGroup and its children (each child holds a reference until it ends).
struct GroupState {
  zync::Mutex lock;
  std::size_t pending = 0;                 // guarded by lock
  std::vector<JoinHandle<void>> children;  // guarded by lock
  std::exception_ptr error;                // guarded by lock: the first failure
  bool cancelled = false;                  // guarded by lock
  TaskHeader* waiter_task = nullptr;       // guarded by lock: the task in wait()
  Waiter waiter;

  void cancel_all() noexcept {
    std::lock_guard guard(lock);
    cancelled = true;
    for (JoinHandle<void>& child : children) child.cancel();
  }
  void child_failed(std::exception_ptr e) noexcept {
    {
      std::lock_guard guard(lock);
      if (!error) error = std::move(e);
    }
    cancel_all();
  }
  void child_done() noexcept {
    TaskHeader* wake = nullptr;
    {
      std::lock_guard guard(lock);
      if (--pending == 0) wake = std::exchange(waiter_task, nullptr);
    }
    if (wake != nullptr) {
      end_wait(wake);
      schedule(wake);
    }
  }
  // The waiting task was cancelled: cancel the children; the wait still ends when they are done.
  static bool try_cancel(Waiter* waiter) noexcept {
    static_cast<GroupState*>(waiter->context)->cancel_all();
    return false;
  }
};

// Ends the child's count when its frame goes, whether it finished or was dropped -- also dropped
// before it ever ran (cancelled while queued), which is why it is a parameter of group_child:
// a coroutine that never started has built no locals, but its parameter copies exist and are
// destroyed with its frame.
struct GroupChildGuard {
  std::shared_ptr<GroupState> state;
  explicit GroupChildGuard(std::shared_ptr<GroupState> s) noexcept : state(std::move(s)) {}
  GroupChildGuard(GroupChildGuard&& other) noexcept = default;  // leaves `other` empty
  GroupChildGuard& operator=(GroupChildGuard&&) = delete;
  ~GroupChildGuard() {
    if (state) state->child_done();
  }
};

// `guard` is the first parameter: parameter copies are destroyed in reverse order, so it goes
// last, after `body`'s frames -- wait() returns only once the child is entirely gone.
inline Task<void> group_child(GroupChildGuard guard, Task<void> body) {
  const std::shared_ptr<GroupState>& state = guard.state;
  // A local: the user's frames end with the body, before the parameters (and the guard) do.
  Task<void> owned = std::move(body);
  try {
    co_await std::move(owned);
  } catch (...) {
    state->child_failed(std::current_exception());
  }
}

}  // namespace detail

class TaskGroup {
 public:
  TaskGroup() : state_(std::make_shared<detail::GroupState>()) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() { assert(state_->pending == 0 && "TaskGroup destroyed before wait() returned"); }

  // Starts `task` as a child (here; it may be stolen). Call from a task of the runtime.
  void spawn(Task<void> task) {
    {
      std::lock_guard guard(state_->lock);
      ++state_->pending;
    }
    JoinHandle<void> handle =
        zell::spawn(detail::group_child(detail::GroupChildGuard(state_), std::move(task)));
    std::lock_guard guard(state_->lock);
    if (state_->cancelled) handle.cancel();
    state_->children.push_back(std::move(handle));
  }

  // Cancels every child.
  void cancel() noexcept { state_->cancel_all(); }

  // For companions that must act on the group later (timeout()'s watchdog).
  const std::shared_ptr<detail::GroupState>& state() const noexcept { return state_; }

  // Waits for every child; rethrows the first child's exception.
  auto wait() noexcept {
    struct Awaiter {
      detail::GroupState* state;
      bool await_ready() const noexcept {
        std::lock_guard guard(state->lock);
        return state->pending == 0;
      }
      bool await_suspend(std::coroutine_handle<> handle) noexcept {
        detail::TaskHeader* task = detail::current_task();
        task->resume_point = handle;
        state->waiter.try_cancel = &detail::GroupState::try_cancel;
        state->waiter.context = state;
        if (!detail::begin_wait(task, &state->waiter)) {
          // Cancelled already: the children must still end before this frame may go.
          state->cancel_all();
        }
        std::unique_lock guard(state->lock);
        if (state->pending == 0) {
          guard.unlock();
          detail::end_wait(task);
          if (task->cancel_requested()) {
            detail::schedule(task);
            return true;
          }
          return false;
        }
        state->waiter_task = task;
        return true;
      }
      void await_resume() {
        std::lock_guard guard(state->lock);
        state->children.clear();
        if (std::exception_ptr error = std::exchange(state->error, nullptr)) {
          std::rethrow_exception(error);
        }
      }
    };
    return Awaiter{state_.get()};
  }

 private:
  std::shared_ptr<detail::GroupState> state_;
};

}  // namespace zap::zell
