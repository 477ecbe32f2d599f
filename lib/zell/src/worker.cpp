// Worker: the run loop -- find a task (local queues, injection queues, stealing), run it, keep
// timers and IO turning, and sleep in the reactor when there is nothing to do.
#include "worker.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "zap/zync/spin_hint.hpp"

#include "fence.hpp"
#include "scheduler.hpp"
#include "thread_state.hpp"

namespace zap::zell::detail {

Worker::Worker(Scheduler& scheduler, unsigned index, unsigned node, unsigned cpu,
               std::unique_ptr<Reactor> reactor)
    : scheduler_(scheduler),
      index_(index),
      node_(node),
      cpu_(cpu),
      reactor_(std::move(reactor)),
      rng_(0x9E3779B9u * (index + 1)) {}

void Worker::run() noexcept {
  tls_worker = this;
  // Timed sleeps (the earliest timer) end when due, not up to 50us later (the default slack).
  (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  while (!scheduler_.stopping()) {
    TaskHeader* task = next_task();
    if (task == nullptr) {
      fire_timers();
      task = next_task();
    }
    if (task == nullptr) busy_.store(false, std::memory_order_relaxed);  // relaxed: a hint
    if (task == nullptr && !searching_) {
      searching_ = scheduler_.idle().try_begin_search();
    }
    if (task == nullptr && searching_) task = search();
    if (task == nullptr) {
      park();
      continue;
    }
    // Relaxed: busy_ is a hint for other nodes' workers (see busy()); nothing is published by it.
    if (!busy_.load(std::memory_order_relaxed)) busy_.store(true, std::memory_order_relaxed);
    if (searching_) end_searching();
    run_task(task);
    // Free again unless more is queued here (see busy()).
    if (!has_local_work()) busy_.store(false, std::memory_order_relaxed);  // relaxed: a hint
    if (tick_ % kFairnessInterval == 0) {
      fire_timers();
      if (reactor_->loop() != nullptr) reactor_->poll(std::chrono::nanoseconds(0));
    }
  }
  if (searching_) end_searching();
  tls_worker = nullptr;
}

void Worker::end_searching() noexcept {
  searching_ = false;
  // The last searcher found work: others may be waiting too, so make sure someone searches.
  if (scheduler_.idle().end_search()) scheduler_.idle().notify(static_cast<int>(node_));
}

void Worker::run_task(TaskHeader* task) noexcept {
  tasks_run_.bump();
  tls_task = task;
  if (task->cancel_requested()) {
    // Suspended and queued nowhere, with no wait registered: its frames can go.
    cancelled_.bump();
    task->drop(task);
  } else {
    task->resume_point.resume();
  }
  tls_task = nullptr;
}

TaskHeader* Worker::next_task() noexcept {
  ++tick_;
  if (tick_ % kFairnessInterval == 0) {
    if (TaskHeader* task = pop_injected()) return task;
    if (TaskHeader* task = yielded_.pop()) return task;
    // The oldest local task: the LIFO deque alone would let recent tasks starve it.
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto stolen = local_.steal();
      if (stolen.is_success()) return stolen.value;
      if (stolen.is_empty()) break;
    }
  }
  drain_inbox();
  if (lifo_ != nullptr && lifo_streak_ < kMaxLifoStreak) {
    ++lifo_streak_;
    lifo_runs_.bump();
    return std::exchange(lifo_, nullptr);
  }
  lifo_streak_ = 0;
  if (TaskHeader* task = pinned_ready_.pop()) return task;
  if (auto task = local_.pop()) return *task;
  if (lifo_ != nullptr) {
    lifo_runs_.bump();
    return std::exchange(lifo_, nullptr);
  }
  if (TaskHeader* task = yielded_.pop()) return task;
  return pop_injected();
}

TaskHeader* Worker::pop_injected() noexcept {
  if (TaskHeader* task = scheduler_.node(node_).inject.pop()) {
    injected_run_on_node_.bump();
    return task;
  }
  if (TaskHeader* task = scheduler_.global().pop()) {
    injected_run_global_.bump();
    return task;
  }
  return nullptr;
}

void Worker::drain_inbox() noexcept {
  while (InboxEntry* entry = inbox_.try_pop()) {
    TaskHeader* task = entry->task;
    if (!entry->cancel) {
      pinned_ready_.push(task);
      continue;
    }
    // A cancel request for a wait owned by this worker (a timer, an IO operation).
    bool withdrawn = false;
    {
      std::lock_guard guard(task->wait_lock);
      Waiter* waiter = task->waiter;
      if (waiter != nullptr && waiter->owner == this && waiter->try_cancel(waiter)) {
        task->waiter = nullptr;
        withdrawn = true;
      }
    }
    if (withdrawn) schedule(task);
    task->drop_ref();  // the inbox's reference
  }
}

void Worker::take_queued(std::vector<TaskHeader*>& queued,
                         std::vector<TaskHeader*>& held) noexcept {
  // The thread is joined: its owner-only queues are ours now.
  while (InboxEntry* entry = inbox_.pop()) {
    (entry->cancel ? held : queued).push_back(entry->task);
  }
  if (lifo_ != nullptr) queued.push_back(std::exchange(lifo_, nullptr));
  while (TaskHeader* task = pinned_ready_.pop()) queued.push_back(task);
  while (TaskHeader* task = yielded_.pop()) queued.push_back(task);
  while (auto task = local_.pop()) queued.push_back(*task);
}

TaskHeader* Worker::search() noexcept {
  NodeState& home = scheduler_.node(node_);
  // Own node first, starting at a random peer.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  const std::size_t peers = home.workers.size();
  for (std::size_t i = 0; i < peers; ++i) {
    Worker* victim = home.workers[(rng_ + i) % peers];
    if (victim == this) continue;
    if (TaskHeader* task = steal_from(*victim)) return task;
  }
  if (TaskHeader* task = home.inject.pop()) {
    injected_run_on_node_.bump();
    return task;
  }
  // Then the other nodes, nearest id first.
  auto& nodes = scheduler_.nodes();
  for (std::size_t n = 1; n < nodes.size(); ++n) {
    NodeState& other = *nodes[(node_ + n) % nodes.size()];
    const std::size_t count = other.workers.size();
    for (std::size_t i = 0; i < count; ++i) {
      if (TaskHeader* task = steal_from(*other.workers[(rng_ + i) % count])) return task;
    }
    // Another node's injected work, only while all of its workers are busy (a free one there
    // was, or will be, woken for it).
    const bool all_busy = std::all_of(other.workers.begin(), other.workers.end(),
                                      [](const Worker* w) { return w->busy(); });
    if (all_busy && other.inject.oldest_waited_ns(now_ns()) >= kForeignInjectDelayNs) {
      if (TaskHeader* task = other.inject.pop()) {
        injected_run_foreign_.bump();
        return task;
      }
    }
  }
  if (TaskHeader* task = scheduler_.global().pop()) {
    injected_run_global_.bump();
    return task;
  }
  return nullptr;
}

TaskHeader* Worker::steal_from(Worker& victim) noexcept {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::size_t before = local_.size_approx();
    auto stolen = victim.local_.steal_batch_and_pop(local_, kMaxStealBatch);
    if (stolen.is_success()) {
      (victim.node_ == node_ ? steals_same_node_ : steals_cross_node_).bump();
      tasks_stolen_.bump(1 + local_.size_approx() - before);
      return stolen.value;
    }
    if (stolen.is_empty()) return nullptr;
  }
  return nullptr;
}

void Worker::push_lifo(TaskHeader* task) noexcept {
  if (TaskHeader* previous = std::exchange(lifo_, task)) push_local(previous);
}

void Worker::push_local(TaskHeader* task) noexcept {
  if (local_.size_approx() >= kLocalCapacity) {
    // Full: move half of the local queue (the newest) and `task` to the node's queue at once.
    TaskHeader* first = task;
    TaskHeader* last = task;
    std::size_t count = 1;
    for (std::size_t i = 0; i < kLocalCapacity / 2; ++i) {
      auto popped = local_.pop();
      if (!popped) break;
      last->next = *popped;
      last = *popped;
      ++count;
    }
    scheduler_.inject_node_batch(node_, first, last, count);
    return;
  }
  local_.push(task);
  scheduler_.idle().notify(static_cast<int>(node_));
}

void Worker::post(InboxEntry* entry) noexcept {
  inbox_.push(entry);
  // Orders our push before the load of parked_, against park()'s store of parked_ and its
  // re-check of the inbox: either it sees the entry or we see it parked (see fence.hpp).
  store_load_fence();
  if (parked_.load(std::memory_order_relaxed)) scheduler_.idle().wake(this);  // relaxed: fenced
}

void Worker::fire_timers() noexcept {
  if (timers_.empty()) return;
  const std::int64_t now = now_ns();
  while (TimerEntry* entry = timers_.pop_due(now)) entry->fire(entry);
}

bool Worker::has_local_work() const noexcept {
  return lifo_ != nullptr || !pinned_ready_.empty() || local_.size_approx() > 0 ||
         !yielded_.empty() || !inbox_.empty();
}

bool Worker::spin_for_work() noexcept {
  // Work often arrives within microseconds (a reply, a wake-up from a peer): a short spin saves
  // the futex sleep and wake-up (several microseconds each) on both sides. Bounded, so an idle
  // worker still sleeps almost at once.
  //
  // IO first: the SQEs queued by the tasks that just ran reach the kernel now, not after the spin
  // (on io_uring they sit in the SQ until the next poll), and completions that are already there
  // run at once. Then, on io_uring, the spin keeps looking at the completion ring too: it is
  // shared memory, so that look costs no syscall until something has finished.
  const bool has_io = reactor_->loop() != nullptr;
  if (has_io) reactor_->poll(std::chrono::nanoseconds(0));
  const bool poll_while_spinning = has_io && reactor_->polls_cheaply();
  const std::int64_t until = now_ns() + kSpinBeforeParkNs;
  for (std::uint32_t i = 1;; ++i) {
    if (has_local_work() || !scheduler_.node(node_).inject.empty() ||
        !scheduler_.global().empty() || scheduler_.stopping()) {
      return true;
    }
    zync::spin_hint();
    if ((i & 63) == 0) {
      if (scheduler_.any_work_hint(node_)) return true;  // something to steal
      if (poll_while_spinning) reactor_->poll(std::chrono::nanoseconds(0));
      if (now_ns() >= until) return false;
    }
  }
}

void Worker::park() noexcept {
  if (!timers_.empty() && timers_.next_deadline() <= now_ns()) return;
  if (spin_for_work()) return;
  const bool last_searcher = scheduler_.idle().park(this, searching_);
  searching_ = false;
  parked_.store(true, std::memory_order_relaxed);  // ordered by the fence below
  // Pairs with the fences of post(), Idle::notify() and the injectors (see fence.hpp), so that
  // work pushed before they looked at us is seen by the re-check below.
  store_load_fence();
  bool work = has_local_work() || scheduler_.stopping() || !scheduler_.node(node_).inject.empty() ||
              !scheduler_.global().empty();
  if (!work && last_searcher) work = scheduler_.any_work_hint(node_);
  if (!work) {
    std::chrono::nanoseconds timeout(-1);
    if (!timers_.empty()) {
      timeout =
          std::chrono::nanoseconds(std::max<std::int64_t>(0, timers_.next_deadline() - now_ns()));
    }
    parks_.bump();
    reactor_->poll(timeout);
  }
  parked_.store(false, std::memory_order_relaxed);  // a hint to post(); stale true costs a wake
  searching_ = scheduler_.idle().unpark(this);
  fire_timers();
}

WorkerCounters Worker::counters() const noexcept {
  WorkerCounters c;
  c.worker = index_;
  c.node = node_;
  c.cpu = cpu_;
  c.tasks_run = tasks_run_.get();
  c.lifo_runs = lifo_runs_.get();
  c.steals_same_node = steals_same_node_.get();
  c.steals_cross_node = steals_cross_node_.get();
  c.tasks_stolen = tasks_stolen_.get();
  c.injected_run_on_node = injected_run_on_node_.get();
  c.injected_run_foreign = injected_run_foreign_.get();
  c.injected_run_global = injected_run_global_.get();
  c.parks = parks_.get();
  c.cancelled = cancelled_.get();
  return c;
}

}  // namespace zap::zell::detail
