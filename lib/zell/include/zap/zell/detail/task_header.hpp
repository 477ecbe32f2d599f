// detail: the record the scheduler keeps for each spawned task, and the wait protocol that
// leaf awaitables (sleep, IO, channels, joins) follow so that cancellation can reach them.
// Not for users.
//
// Wait protocol. A task that suspends waiting for something (a timer, an IO completion, a channel
// slot, another task) registers a Waiter with begin_wait() after setting resume_point. Whoever
// completes the wait calls end_wait() and then schedule(). A canceller (request_cancel) sets
// kCancelRequested and, under the same wait lock, asks the registered Waiter to withdraw:
//   - try_cancel() returns true: the wait is withdrawn; the canceller schedules the task.
//   - it returns false: the wait will complete by itself (it was asked to finish early, e.g. an IO
//     operation was cancelled in the kernel); its completion schedules the task as usual.
// A Waiter with an owner worker (timers, IO: state of that worker's thread) is cancelled on that
// worker: the request travels through the worker's inbox.
// A task popped from a run queue with kCancelRequested set is not resumed: its frames are
// destroyed (destructors run) and its joiners see it as cancelled. No frame dies while a wait is
// registered, so no completion ever touches a dead frame.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "zap/zync/mpsc_queue.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell::detail {

class Worker;
class Scheduler;
struct TaskHeader;

// A message in a worker's inbox: "run this pinned task" or "cancel this task's wait".
struct InboxEntry : zync::MpscNode {
  TaskHeader* task = nullptr;
  bool cancel = false;
};

// A registered wait, as cancellation sees it.
struct Waiter {
  // Called with the task's wait lock held. True: the wait is withdrawn and will never complete;
  // the caller schedules the task. False: the wait will still complete (and schedule the task).
  bool (*try_cancel)(Waiter* self) noexcept = nullptr;
  // Non-null: try_cancel must run on this worker's thread.
  Worker* owner = nullptr;
  // The awaiter this Waiter belongs to, for try_cancel.
  void* context = nullptr;
};

struct TaskHeader {
  static constexpr std::uint32_t kCancelRequested = 1;

  // The innermost suspended coroutine of the task: what the next run resumes. Written by the task
  // before it becomes schedulable; the run queue's release/acquire publishes it to the runner.
  std::coroutine_handle<> resume_point;
  // Destroys the task's frames and completes it as cancelled (the task is suspended and queued
  // nowhere). Then the task is finished.
  void (*drop)(TaskHeader* self) noexcept = nullptr;
  // Frees the record; called when refs_ reaches zero.
  void (*release)(TaskHeader* self) noexcept = nullptr;

  Scheduler* scheduler = nullptr;
  Worker* pinned = nullptr;    // non-null: runs only on this worker (never stolen)
  TaskHeader* next = nullptr;  // intrusive link: injection queues and worker-local lists
  // The live-task registry (for shutdown) that holds this task, or nullptr. A task joins one when
  // it first suspends anywhere else than in a run queue (keep_findable): shutdown finds queued
  // tasks in the queues, so a task that never waits -- most short ones -- never pays for it.
  // Links guarded by the registry's lock; `registry` itself is the task's own (written by whoever
  // runs it, and by shutdown).
  TaskHeader* registry_prev = nullptr;
  TaskHeader* registry_next = nullptr;
  void* registry = nullptr;
  // Spawn depth: 0 for a task spawned from outside the runtime, parent's + 1 for one spawned by
  // a task. Shutdown drops deeper tasks first (children before the parents that wait for them).
  std::uint32_t depth = 0;

  // kCancelRequested. SeqCst (see request_cancel / begin_wait): a Dekker pair with the waiter.
  std::atomic<std::uint32_t> flags{0};
  // References: the scheduler's (until the task finishes), the JoinHandle's, queued inbox
  // messages'. AcqRel on decrement so the last owner sees every write before freeing.
  std::atomic<std::uint32_t> refs{1};
  zync::Mutex wait_lock;
  Waiter* waiter = nullptr;  // guarded by wait_lock
  InboxEntry run_entry;
  InboxEntry cancel_entry;

  bool cancel_requested() const noexcept {
    // Acquire: pairs with request_cancel's seq_cst RMW (a hint; begin_wait re-checks under lock).
    return (flags.load(std::memory_order_acquire) & kCancelRequested) != 0;
  }
  void add_ref() noexcept {
    // Relaxed: the caller already holds a reference, so the count cannot reach zero meanwhile.
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  void drop_ref() noexcept {
    // AcqRel: release our writes to, and acquire everyone's writes before, the freeing thread.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) release(this);
  }
};

// The task the calling thread is running (nullptr outside a task).
TaskHeader* current_task() noexcept;
// The worker the calling thread is (nullptr outside the runtime's workers).
Worker* current_worker() noexcept;

// Makes `task` runnable: on the current worker if there is one (LIFO slot), else through the
// injection queues; a pinned task goes to its worker. Any thread.
void schedule(TaskHeader* task) noexcept;
// As schedule(), but the task goes behind every other local task (yield).
void schedule_yield(TaskHeader* task) noexcept;

// Adds the running `task` to its worker's live-task registry (see TaskHeader::registry).
void register_live(TaskHeader* task) noexcept;
// Called by the running task before it suspends outside the run queues (a wait, a blocking job):
// from then on only the registry lets shutdown find it. Before the wait is published, so that
// its completer cannot run and finish the task on another worker while we register it.
inline void keep_findable(TaskHeader* task) noexcept {
  if (task->registry == nullptr) register_live(task);
}

// Registers `waiter`; false if cancellation was requested (then nothing is registered and the
// caller must make the task runnable so that it is dropped).
inline bool begin_wait(TaskHeader* task, Waiter* waiter) noexcept {
  keep_findable(task);
  std::lock_guard guard(task->wait_lock);
  if (task->cancel_requested()) return false;
  task->waiter = waiter;
  return true;
}

// As begin_wait(), for a wait whose completer finds the task through something the awaiter
// publishes (a joiner slot, a waiter field): publish() runs under the task's wait lock, so a
// canceller (which takes that lock) sees either no wait yet -- and then begin_wait sees its
// flag -- or a registered wait whose try_cancel finds what publish() made visible. publish()
// returns false when there is nothing to wait for (then nothing is registered).
enum class WaitStart : unsigned char { kCancelled, kWaiting, kReady };
template <typename Publish>
WaitStart begin_wait_publishing(TaskHeader* task, Waiter* waiter, Publish&& publish) noexcept {
  keep_findable(task);
  std::lock_guard guard(task->wait_lock);
  if (task->cancel_requested()) return WaitStart::kCancelled;
  if (!publish()) return WaitStart::kReady;
  task->waiter = waiter;
  return WaitStart::kWaiting;
}

// Unregisters the current wait (the completer calls it before scheduling the task).
inline void end_wait(TaskHeader* task) noexcept {
  std::lock_guard guard(task->wait_lock);
  task->waiter = nullptr;
}

// Requests cancellation of `task`. Any thread; idempotent.
void request_cancel(TaskHeader* task) noexcept;

}  // namespace zap::zell::detail

namespace zap::zell::detail {
// The scheduler of the calling worker (nullptr outside the runtime's workers).
Scheduler* current_scheduler() noexcept;
Worker* worker_at(Scheduler* scheduler, std::size_t index) noexcept;
std::size_t worker_index(const Worker* worker) noexcept;
}  // namespace zap::zell::detail
