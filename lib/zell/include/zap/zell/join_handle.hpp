// JoinHandle<T>: the owner's end of a spawned task -- await its result, block on it, cancel it.
//
//   zap::zell::JoinHandle<int> h = zap::zell::spawn(compute());
//   int v = co_await h;          // inside a task: the value, or rethrows what compute() threw
//   h.cancel();                  // (any time) ask it to stop at its next suspension point
//   int w = runtime.spawn(compute()).get();   // outside the runtime: block the calling thread
//
// A task whose cancellation took effect has had its frames destroyed; awaiting it throws
// TaskCancelled. Dropping a JoinHandle detaches the task (it keeps running). A handle can be
// joined once (co_await or get()).
//
// Thread-safety: a JoinHandle is a move-only value with one owner; cancel() and is_finished()
// may be called from any thread that owns it, concurrently with the task running anywhere.
#pragma once

#include <atomic>
#include <cassert>
#include <coroutine>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zell/task.hpp"
#include "zap/zell/unobserved_exception.hpp"
#include "zap/zync/event.hpp"

namespace zap::zell {

// Thrown when awaiting (or get()ting) a task that was cancelled before it finished.
class TaskCancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "zap::zell task cancelled"; }
};

namespace detail {

enum class Outcome : unsigned char { kRunning, kValue, kException, kCancelled };

// Someone waiting for a task to finish: a task (through the wait protocol) or a blocked thread.
struct JoinWaiter {
  Waiter waiter;
  TaskHeader* task = nullptr;
  zync::Event* event = nullptr;
  struct Joinable* target = nullptr;
};

// The type-independent part of a spawned task's record.
struct Joinable : TaskHeader {
  // nullptr: nobody waits; finished_marker(): finished; else the waiter. AcqRel exchanges: the
  // finisher's release publishes the outcome; the joiner's acquire reads it.
  std::atomic<JoinWaiter*> joiner{nullptr};
  Outcome outcome = Outcome::kRunning;  // written before the joiner exchange (see above)
  // Set by the joiner when it takes the outcome. Read when the record is freed, by whoever drops
  // the last reference: refs' acq_rel decrement orders the joiner's write before that read.
  bool observed = false;
  std::exception_ptr exception;

  Joinable() = default;
  Joinable(const Joinable&) = delete;
  Joinable& operator=(const Joinable&) = delete;
  // The last reference is gone: an exception nobody took would vanish here, so report it.
  ~Joinable() {
    if (outcome == Outcome::kException && !observed) report_unobserved_exception(exception);
  }

  static JoinWaiter* finished_marker() noexcept {
    return reinterpret_cast<JoinWaiter*>(alignof(JoinWaiter));
  }
  bool finished() const noexcept {
    // Acquire: pairs with finish()'s release exchange; a true answer makes the outcome visible.
    return joiner.load(std::memory_order_acquire) == finished_marker();
  }
};

// Records `outcome`, wakes the joiner, unregisters the task and drops the scheduler's reference.
void finish_task(Joinable* task, Outcome outcome) noexcept;
// Registers a new record (refs == 2: scheduler + handle) and makes it runnable: on `pinned` if
// non-null, else on node `node` if >= 0, else here (or the global queue outside the runtime).
void submit_spawn(Scheduler* scheduler, TaskHeader* task, Worker* pinned, int node) noexcept;
// Withdraws a JoinWaiter (called under the joining task's wait lock).
bool try_cancel_join(Waiter* waiter) noexcept;

// One spawned task: its record (Joinable) and its body's coroutine, then its outcome's value.
template <typename T>
struct Spawned final : Joinable {
  static constexpr bool kVoid = std::is_void_v<T>;
  using Body = std::coroutine_handle<Promise<T>>;
  using Stored = std::conditional_t<kVoid, char, T>;  // char: a placeholder, never constructed
  Body body;
  union Slot {
    Slot() noexcept {}
    ~Slot() {}
    Stored value;
  } slot;

  explicit Spawned(Task<T> task) : body(task.release()) {
    resume_point = body;
    drop = &drop_fn;
    release = &release_fn;
    body.promise().set_root(this, &done_fn);
  }
  ~Spawned() {
    if constexpr (!kVoid) {
      if (outcome == Outcome::kValue) slot.value.~T();
    }
  }

  static void done_fn(TaskHeader* header) noexcept {
    auto* self = static_cast<Spawned*>(header);
    Promise<T>& promise = self->body.promise();
    Outcome outcome = Outcome::kValue;
    if (promise.failed()) {
      self->exception = promise.error();
      outcome = Outcome::kException;
    } else if constexpr (!kVoid) {
      ::new (static_cast<void*>(&self->slot.value)) T(promise.value());
    }
    self->body.destroy();
    self->body = nullptr;
    finish_task(self, outcome);
  }
  static void drop_fn(TaskHeader* header) noexcept {
    auto* self = static_cast<Spawned*>(header);
    if (self->body) self->body.destroy();
    self->body = nullptr;
    finish_task(self, Outcome::kCancelled);
  }
  static void release_fn(TaskHeader* header) noexcept {
    auto* self = static_cast<Spawned*>(header);
    self->~Spawned();
    deallocate_frame(self, sizeof(Spawned));
  }
  T take() {
    observed = true;
    if (outcome == Outcome::kException) std::rethrow_exception(exception);
    if (outcome == Outcome::kCancelled) throw TaskCancelled();
    if constexpr (!kVoid) return std::move(slot.value);
  }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() noexcept = default;
  explicit JoinHandle(detail::Spawned<T>* task) noexcept : task_(task) {}
  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      reset();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { reset(); }

  bool valid() const noexcept { return task_ != nullptr; }
  bool is_finished() const noexcept { return task_ != nullptr && task_->finished(); }
  // Asks the task to stop: its current wait (timer, IO, channel, join) is withdrawn or cancelled,
  // and its frames are destroyed at that suspension point. No effect once it finished.
  void cancel() noexcept {
    if (task_ != nullptr) detail::request_cancel(task_);
  }
  // Lets the task run on unobserved.
  void detach() noexcept { reset(); }

  // Blocks the calling thread (which must not be a worker of the runtime) until the task
  // finishes; returns its value or rethrows (TaskCancelled if cancelled).
  T get() {
    assert(task_ != nullptr);
    assert(detail::current_worker() == nullptr && "JoinHandle::get() would block a worker");
    if (!task_->finished()) {
      zync::Event event;
      detail::JoinWaiter waiter;
      waiter.event = &event;
      wait_blocking(waiter, event);
    }
    JoinHandle keep = std::move(*this);
    return keep.task_->take();
  }

  auto operator co_await() noexcept {
    struct Awaiter {
      detail::Spawned<T>* task;
      detail::JoinWaiter waiter;

      bool await_ready() const noexcept { return task->finished(); }
      bool await_suspend(std::coroutine_handle<> handle) noexcept {
        detail::TaskHeader* self = detail::current_task();
        assert(self != nullptr && "co_await on a JoinHandle outside a task");
        self->resume_point = handle;
        waiter.task = self;
        waiter.target = task;
        waiter.waiter.try_cancel = &detail::try_cancel_join;
        waiter.waiter.context = &waiter;
        // The joiner slot is published under our wait lock: a canceller then finds the waiter
        // there (and takes it back), or finds no wait and leaves its flag for begin_wait.
        const detail::WaitStart start = detail::begin_wait_publishing(self, &waiter.waiter, [&] {
          detail::JoinWaiter* expected = nullptr;
          // AcqRel: release publishes `waiter` to the finisher; acquire (also on failure) reads
          // the outcome if the task finished first.
          return task->joiner.compare_exchange_strong(expected, &waiter, std::memory_order_acq_rel,
                                                      std::memory_order_acquire);
        });
        if (start == detail::WaitStart::kCancelled) {
          detail::schedule(self);  // cancelled: run it once more, to be dropped
          return true;
        }
        return start == detail::WaitStart::kWaiting;  // kReady: finished meanwhile, continue
      }
      T await_resume() { return task->take(); }
    };
    assert(task_ != nullptr);
    return Awaiter{task_, {}};
  }

 private:
  void wait_blocking(detail::JoinWaiter& waiter, zync::Event& event) noexcept {
    detail::JoinWaiter* expected = nullptr;
    // AcqRel: as in the awaiter; on failure the task finished and its outcome is visible.
    if (task_->joiner.compare_exchange_strong(expected, &waiter, std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
      event.wait();
    }
  }
  void reset() noexcept {
    if (task_ != nullptr) std::exchange(task_, nullptr)->drop_ref();
  }

  detail::Spawned<T>* task_ = nullptr;
};

}  // namespace zap::zell
