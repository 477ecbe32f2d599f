// Worker: one scheduler thread -- its run queues, timers, reactor and counters.
//
// Queues, in the order next_task() looks at them: the inbox (pinned tasks woken and cancel
// requests sent by other threads), the LIFO slot (the task this worker just woke; at most
// kMaxLifoStreak times in a row, so it cannot starve the rest), pinned tasks, the local
// work-stealing deque, tasks that yielded, then the node's and the global injection queues. Every
// kFairnessInterval ticks the injection queues, the yielded tasks and the oldest local task go
// first. An idle worker steals half of a victim's deque: its own node's workers first.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <vector>
#include "idle.hpp"
#include "injection_queue.hpp"
#include "reactor.hpp"
#include "timer_heap.hpp"
#include "zap/zell/counters.hpp"

#include "zap/zell/detail/task_header.hpp"
#include "zap/zuma/thread.hpp"
#include "zap/zync/mpsc_queue.hpp"
#include "zap/zync/work_stealing_deque.hpp"

namespace zap::zell::detail {

class Scheduler;

class Worker {
 public:
  static constexpr std::uint32_t kFairnessInterval = 61;
  static constexpr std::uint32_t kMaxLifoStreak = 3;
  static constexpr std::size_t kLocalCapacity = 256;
  static constexpr std::size_t kMaxStealBatch = 128;
  // How long a node's injected task waits before workers of other nodes may take it (and only
  // while all of that node's workers are busy).
  static constexpr std::int64_t kForeignInjectDelayNs = 200'000;
  // How long a worker out of work polls its queues before it sleeps.
  static constexpr std::int64_t kSpinBeforeParkNs = 20'000;

  Worker(Scheduler& scheduler, unsigned index, unsigned node, unsigned cpu,
         std::unique_ptr<Reactor> reactor);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Thread body: runs until the scheduler stops.
  void run() noexcept;

  // --- owner thread only
  void push_lifo(TaskHeader* task) noexcept;
  void push_local(TaskHeader* task) noexcept;
  void push_pinned(TaskHeader* task) noexcept { pinned_ready_.push(task); }
  void push_yielded(TaskHeader* task) noexcept { yielded_.push(task); }
  void arm(TimerEntry* entry) noexcept { timers_.push(entry); }
  void disarm(TimerEntry* entry) noexcept { timers_.remove(entry); }
  Registry& registry() noexcept { return registry_; }

  // --- any thread
  // Hands `entry` to this worker and wakes it if it sleeps.
  void post(InboxEntry* entry) noexcept;
  Reactor& reactor() noexcept { return *reactor_; }
  Scheduler& scheduler() noexcept { return scheduler_; }
  unsigned index() const noexcept { return index_; }
  unsigned node() const noexcept { return node_; }
  unsigned cpu() const noexcept { return cpu_; }
  // Shutdown, once the thread has stopped: empties every run queue and the inbox (so that no
  // entry is read after the records are freed), appending the runnable tasks to `queued` and
  // the tasks whose queued cancel requests hold a reference to `held` (the caller drops those
  // references once the tasks are gone).
  void take_queued(std::vector<TaskHeader*>& queued, std::vector<TaskHeader*>& held) noexcept;
  WorkerCounters counters() const noexcept;
  zuma::Thread& thread() noexcept { return thread_; }
  // Running tasks without a pause since it last found work (a hint for other nodes' workers,
  // which take this node's injected work only while all of its workers are busy).
  bool busy() const noexcept { return busy_.load(std::memory_order_relaxed); }  // relaxed: hint
  // Asleep (or about to be) in park(). Relaxed: callers order it with seq_cst fences.
  bool parked() const noexcept { return parked_.load(std::memory_order_relaxed); }
  // Something to steal (a hint).
  bool has_stealable() const noexcept { return local_.size_approx() > 0; }

  // Idle's bookkeeping, guarded by Idle's lock.
  bool in_sleepers = false;
  bool woken_searching = false;

 private:
  TaskHeader* next_task() noexcept;
  TaskHeader* pop_injected() noexcept;
  TaskHeader* search() noexcept;
  TaskHeader* steal_from(Worker& victim) noexcept;
  void drain_inbox() noexcept;
  void run_task(TaskHeader* task) noexcept;
  void fire_timers() noexcept;
  void park() noexcept;
  bool spin_for_work() noexcept;
  bool has_local_work() const noexcept;
  void end_searching() noexcept;

  Scheduler& scheduler_;
  const unsigned index_;
  const unsigned node_;
  const unsigned cpu_;
  std::unique_ptr<Reactor> reactor_;
  zuma::Thread thread_;

  zync::WorkStealingDeque<TaskHeader*> local_{kLocalCapacity};
  TaskHeader* lifo_ = nullptr;
  std::uint32_t lifo_streak_ = 0;
  LocalFifo pinned_ready_;
  LocalFifo yielded_;
  zync::MpscQueue<InboxEntry> inbox_;
  TimerHeap timers_;
  Registry registry_;
  std::uint32_t tick_ = 0;
  std::uint32_t rng_;
  bool searching_ = false;
  std::atomic<bool> busy_{false};  // see busy(); written by the owner only
  // True while asleep in park(); SeqCst: a Dekker pair with post()'s check (see post()).
  std::atomic<bool> parked_{false};

  struct Counter {
    std::atomic<std::uint64_t> value{0};
    // Relaxed: only the owner writes; readers want a recent value, nothing more.
    void bump(std::uint64_t by = 1) noexcept {
      value.store(value.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
  };
  Counter tasks_run_, lifo_runs_, steals_same_node_, steals_cross_node_, tasks_stolen_,
      injected_run_on_node_, injected_run_foreign_, injected_run_global_, parks_, cancelled_;
};

}  // namespace zap::zell::detail
