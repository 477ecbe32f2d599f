// Scheduler: layout of workers over the topology, start, shutdown, and the scheduling entry
// points that tasks and awaitables call (schedule, submit_spawn, request_cancel, finish_task).
#include "scheduler.hpp"
#include "fence.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "thread_state.hpp"
#include "zap/zell/detail/timer_entry.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zuma/this_thread.hpp"

namespace zap::zell::detail {

thread_local Worker* tls_worker = nullptr;
thread_local TaskHeader* tls_task = nullptr;

namespace {

std::size_t worker_count(const RuntimeConfig& config, const zuma::CpuSet& cpus) {
  return config.workers != 0 ? config.workers : std::max<std::size_t>(1, cpus.count());
}

// The logical CPUs workers may use: config.cpus, else those whose real CPU this process may run
// on. A process started under taskset, a cgroup cpuset or `docker --cpuset-cpus` keeps its
// workers (and their count) inside that set, instead of pinning them onto CPUs it was kept off,
// where they would compete with whatever was put there.
zuma::CpuSet usable_cpus(const RuntimeConfig& config, const zuma::Topology& topology) {
  if (config.cpus) return *config.cpus & topology.cpu_set();
  const zuma::Result<zuma::CpuSet> allowed = zuma::this_thread::affinity();
  if (!allowed) return topology.cpu_set();
  zuma::CpuSet usable;
  for (const unsigned cpu : topology.cpu_set()) {
    const std::optional<unsigned> os_cpu = topology.os_cpu_of(cpu);
    if (os_cpu && allowed->contains(*os_cpu)) usable.add(cpu);
  }
  // A topology that names none of the allowed CPUs (simulated, or read elsewhere): all of it.
  return usable.empty() ? topology.cpu_set() : usable;
}

}  // namespace

Scheduler::Scheduler(const RuntimeConfig& config, std::error_code& ec)
    : config_(config),
      topology_(config.topology ? *config.topology : zuma::Topology::system()),
      idle_(static_cast<std::uint32_t>(worker_count(config, usable_cpus(config, topology_)))),
      blocking_(config.max_blocking_threads) {
  ec.clear();
  const zuma::CpuSet cpus = usable_cpus(config, topology_);
  if (cpus.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return;
  }
  const std::size_t count = worker_count(config, cpus);
  // Nodes that hold chosen CPUs, densely indexed.
  std::vector<unsigned> node_ids;
  std::vector<unsigned> ordered_cpus;  // node-major
  for (const zuma::Node& node : topology_.nodes()) {
    const zuma::CpuSet mine = node.cpus & cpus;
    if (mine.empty()) continue;
    node_ids.push_back(node.id);
    for (unsigned cpu : mine) ordered_cpus.push_back(cpu);
  }
  for (std::size_t i = 0; i < node_ids.size(); ++i) {
    nodes_.push_back(std::make_unique<NodeState>());
    nodes_.back()->id = static_cast<unsigned>(i);
  }
  idle_.set_node_count(static_cast<unsigned>(nodes_.size()));
  // Worker i serves ordered_cpus[i % n]: with fewer workers than CPUs, spread over the nodes
  // by taking every k-th CPU.
  const std::size_t n = ordered_cpus.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t slot = count < n ? (i * n) / count : i % n;
    const unsigned cpu = ordered_cpus[slot];
    const unsigned topo_node = *topology_.node_of_cpu(cpu);
    const auto dense = static_cast<unsigned>(
        std::find(node_ids.begin(), node_ids.end(), topo_node) - node_ids.begin());
    auto reactor = make_reactor(config.io_backend, ec);
    if (!reactor) return;
    workers_.push_back(
        std::make_unique<Worker>(*this, static_cast<unsigned>(i), dense, cpu, std::move(reactor)));
    nodes_[dense]->workers.push_back(workers_.back().get());
  }
}

Scheduler::~Scheduler() { shutdown(); }

std::error_code Scheduler::start() {
  for (auto& worker : workers_) {
    zuma::ThreadOptions options;
    options.stack_size = config_.worker_stack_size;
    options.name = config_.name.substr(0, 8) + "-w" + std::to_string(worker->index());
    if (config_.pin_workers) {
      if (auto os_cpu = topology_.os_cpu_of(worker->cpu()))
        options.affinity = zuma::CpuSet{*os_cpu};
    }
    Worker* w = worker.get();
    auto thread = zuma::Thread::spawn(options, [w] { w->run(); });
    if (!thread && options.affinity) {
      // The real CPU is not ours to use (a cgroup, a simulated topology): run unpinned.
      options.affinity.reset();
      thread = zuma::Thread::spawn(options, [w] { w->run(); });
    }
    if (!thread) {
      shutdown();
      return thread.error();
    }
    worker->thread() = std::move(*thread);
  }
  started_ = true;
  return {};
}

void Scheduler::shutdown() noexcept {
  if (shut_down_) return;
  shut_down_ = true;
  {
    // From now on other threads leave the queues, inboxes and reactors alone (see from_outside).
    std::lock_guard guard(outside_lock_);
    outside_closed_ = true;
  }
  // SeqCst: ordered before the wake-ups below and the workers' re-check in park().
  stopping_.store(true, std::memory_order_seq_cst);
  idle_.wake_all();
  for (auto& worker : workers_) worker->reactor().wake();
  for (auto& worker : workers_) {
    if (worker->thread().joinable()) (void)worker->thread().join();
  }
  blocking_.shutdown();
  // IO first: closing the loops cancels what is in flight in the kernel, so that no completion
  // can write into a frame we are about to destroy.
  for (auto& worker : workers_) worker->reactor().close();
  drop_unfinished_tasks();
}

void Scheduler::drop_unfinished_tasks() noexcept {
  // No worker runs any more. First unlink the inboxes: a queued run entry lives in a record that
  // the drop below may free. Queued cancel requests keep their references until the end.
  std::vector<TaskHeader*> held;
  register_queued_tasks(held);
  // Withdraw every wait that is not a worker's (joins, wait groups, channels): once withdrawn, no
  // completer points into the waiting frame, whatever order the frames die in. (Timer and IO
  // waits are their worker's, which is stopped, its loop closed.) A wait that cannot be withdrawn
  // (a task group's) ends when its children are gone; they are deeper, so dropped first.
  std::vector<TaskHeader*> tasks;
  auto collect = [&](TaskHeader* task) noexcept {
    task->add_ref();  // ours: the record outlives any drop below that would finish it
    tasks.push_back(task);
  };
  external_registry_.for_each(collect);
  for (auto& worker : workers_) worker->registry().for_each(collect);
  for (TaskHeader* task : tasks) {
    std::lock_guard guard(task->wait_lock);
    Waiter* waiter = task->waiter;
    if (waiter != nullptr && waiter->owner == nullptr && waiter->try_cancel(waiter)) {
      task->waiter = nullptr;
    }
  }
  // Children before their parents: a parent's frame holds what its children's completions touch.
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const TaskHeader* a, const TaskHeader* b) { return a->depth > b->depth; });
  for (TaskHeader* task : tasks) {
    if (task->registry != nullptr) task->drop(task);  // else finished meanwhile
    task->drop_ref();
  }
  // Tasks spawned while dropping (by destructors), and what they queued.
  auto drain = [](Registry& registry) {
    while (TaskHeader* task = registry.first()) task->drop(task);
  };
  for (;;) {
    register_queued_tasks(held);
    bool any = external_registry_.first() != nullptr;
    for (auto& worker : workers_) any = any || worker->registry().first() != nullptr;
    if (!any) break;
    drain(external_registry_);
    for (auto& worker : workers_) drain(worker->registry());
  }
  for (TaskHeader* task : held) task->drop_ref();
}

void Scheduler::register_queued_tasks(std::vector<TaskHeader*>& held) noexcept {
  // A task that never waited is in no registry: it is in a run queue (never run, yielded, or
  // posted to its pinned worker). Empty every queue and register what was there, so that the
  // registries hold every unfinished task.
  std::vector<TaskHeader*> queued;
  for (auto& worker : workers_) worker->take_queued(queued, held);
  while (TaskHeader* task = global_.pop()) queued.push_back(task);
  for (auto& node : nodes_) {
    while (TaskHeader* task = node->inject.pop()) queued.push_back(task);
  }
  for (TaskHeader* task : queued) {
    if (task->registry == nullptr) external_registry_.add(task);
  }
}

void Scheduler::submit(TaskHeader* task, Worker* pinned, int node) noexcept {
  task->scheduler = this;
  task->pinned = pinned;
  Worker* here = tls_worker;
  if (here != nullptr && &here->scheduler() != this) here = nullptr;
  if (here != nullptr) return enqueue_new(task, pinned, node, here);
  // Shut down (or shutting down): the task never runs; its handle sees it cancelled.
  if (!from_outside([&] { enqueue_new(task, pinned, node, nullptr); })) task->drop(task);
}

void Scheduler::enqueue_new(TaskHeader* task, Worker* pinned, int node, Worker* here) noexcept {
  task->depth = here != nullptr && tls_task != nullptr ? tls_task->depth + 1 : 0;
  if (pinned != nullptr) {
    if (pinned == here) {
      pinned->push_pinned(task);
    } else {
      pinned->post(&task->run_entry);
    }
  } else if (node >= 0) {
    inject_node(static_cast<unsigned>(node) % static_cast<unsigned>(nodes_.size()), task);
  } else if (here != nullptr) {
    here->push_local(task);
  } else {
    inject_global(task);
  }
}

void Scheduler::inject_global(TaskHeader* task) noexcept {
  global_.push(task);
  idle_.notify(-1);  // fences our push against the sleepers' re-check
}

void Scheduler::inject_node(unsigned node, TaskHeader* task) noexcept {
  inject_node_batch(node, task, task, 1);
}

void Scheduler::inject_node_batch(unsigned node, TaskHeader* first, TaskHeader* last,
                                  std::size_t count) noexcept {
  nodes_[node]->inject.push_batch(first, last, count, now_ns());
  store_load_fence();  // our push before the look at the node's workers (see fence.hpp)
  // A free, awake worker of the node will see the task before it sleeps (park() re-checks its
  // node's queue after its own fence). Otherwise wake a sleeper of the node; failing that (all
  // busy), let the usual notification find a searcher elsewhere.
  for (Worker* worker : nodes_[node]->workers) {
    if (!worker->parked() && !worker->busy()) return;
  }
  if (idle_.wake_one_of_node(node)) return;
  idle_.notify(static_cast<int>(node));
}

bool Scheduler::any_work_hint(unsigned node) const noexcept {
  (void)node;
  if (!global_.empty()) return true;
  for (const auto& n : nodes_) {
    if (!n->inject.empty()) return true;
  }
  for (const auto& worker : workers_) {
    if (worker->has_stealable()) return true;
  }
  return false;
}

std::vector<WorkerCounters> Scheduler::counters() const {
  std::vector<WorkerCounters> all;
  all.reserve(workers_.size());
  for (const auto& worker : workers_) all.push_back(worker->counters());
  return all;
}

Scheduler* current_scheduler() noexcept {
  return tls_worker != nullptr ? &tls_worker->scheduler() : nullptr;
}

Worker* worker_at(Scheduler* scheduler, std::size_t index) noexcept {
  auto& workers = scheduler->workers();
  return workers[index % workers.size()].get();
}

std::size_t worker_index(const Worker* worker) noexcept { return worker->index(); }

// --- entry points for tasks and awaitables

TaskHeader* current_task() noexcept { return tls_task; }
Worker* current_worker() noexcept { return tls_worker; }

namespace {
void schedule_from(TaskHeader* task, Worker* here) noexcept {
  if (Worker* pinned = task->pinned) {
    if (pinned == here) {
      pinned->push_pinned(task);
    } else {
      pinned->post(&task->run_entry);
    }
    return;
  }
  if (here != nullptr) {
    here->push_lifo(task);
  } else {
    task->scheduler->inject_global(task);
  }
}
}  // namespace

void schedule(TaskHeader* task) noexcept {
  Scheduler* scheduler = task->scheduler;
  Worker* here = tls_worker;
  if (here != nullptr && &here->scheduler() == scheduler) return schedule_from(task, here);
  // Outside the workers: once shutdown began, the task stays registered and shutdown drops it.
  (void)scheduler->from_outside([&] { schedule_from(task, nullptr); });
}

void schedule_yield(TaskHeader* task) noexcept {
  Worker* here = tls_worker;
  // A pinned task yielding on its own worker goes behind that worker's other work too (not to
  // pinned_ready_, which is served before the local queues: a spin on yield() would starve them).
  if (here != nullptr && &here->scheduler() == task->scheduler &&
      (task->pinned == nullptr || task->pinned == here)) {
    here->push_yielded(task);
  } else {
    schedule(task);
  }
}

void request_cancel(TaskHeader* task) noexcept {
  // SeqCst RMW: the flag must be visible to begin_wait() (which reads it under the wait lock we
  // take next) and to a runner that pops the task.
  if ((task->flags.fetch_or(TaskHeader::kCancelRequested, std::memory_order_seq_cst) &
       TaskHeader::kCancelRequested) != 0) {
    return;
  }
  bool withdrawn = false;
  {
    std::lock_guard guard(task->wait_lock);
    Waiter* waiter = task->waiter;
    if (waiter == nullptr) return;
    if (waiter->owner != nullptr && waiter->owner != tls_worker) {
      // The wait belongs to another worker's thread: ask it there. The inbox holds a reference.
      // (After shutdown began, nobody would take the request: shutdown drops the task anyway.)
      auto post = [&] {
        task->add_ref();
        task->cancel_entry.task = task;
        task->cancel_entry.cancel = true;
        waiter->owner->post(&task->cancel_entry);
      };
      Worker* here = tls_worker;
      if (here != nullptr && &here->scheduler() == task->scheduler) {
        post();
      } else {
        (void)task->scheduler->from_outside(post);
      }
      return;
    }
    if (waiter->try_cancel(waiter)) {
      task->waiter = nullptr;
      withdrawn = true;
    }
  }
  if (withdrawn) schedule(task);
}

void register_live(TaskHeader* task) noexcept {
  Worker* here = tls_worker;
  Registry& registry = here != nullptr && &here->scheduler() == task->scheduler
                           ? here->registry()
                           : task->scheduler->external_registry();
  registry.add(task);
}

void finish_task(Joinable* task, Outcome outcome) noexcept {
  task->outcome = outcome;
  if (task->registry != nullptr) static_cast<Registry*>(task->registry)->remove(task);
  // AcqRel: release publishes the outcome (and result) to the joiner; acquire reads the waiter.
  JoinWaiter* waiter =
      task->joiner.exchange(Joinable::finished_marker(), std::memory_order_acq_rel);
  if (waiter != nullptr) {
    if (waiter->task != nullptr) {
      TaskHeader* joiner = waiter->task;
      end_wait(joiner);
      schedule(joiner);
    } else {
      waiter->event->set();
    }
  }
  task->drop_ref();  // the scheduler's reference
}

void submit_spawn(Scheduler* scheduler, TaskHeader* task, Worker* pinned, int node) noexcept {
  task->refs.store(2, std::memory_order_relaxed);  // relaxed: not shared yet (scheduler + handle)
  task->run_entry.task = task;
  scheduler->submit(task, pinned, node);
}

bool try_cancel_join(Waiter* waiter) noexcept {
  auto* join = static_cast<JoinWaiter*>(waiter->context);
  JoinWaiter* expected = join;
  // AcqRel on success: we take our waiter back before the finisher sees it. On failure the task
  // finished and its finisher schedules the joiner: nothing to do.
  return join->target->joiner.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                                      std::memory_order_acquire);
}

// --- timers

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void timer_arm(Worker* worker, TimerEntry* entry) noexcept { worker->arm(entry); }
void timer_disarm(Worker* worker, TimerEntry* entry) noexcept { worker->disarm(entry); }

// --- blocking pool

bool submit_blocking(BlockingJob* job) noexcept {
  Worker* here = tls_worker;
  if (here == nullptr) return false;
  here->scheduler().blocking().submit(job);
  return true;
}

}  // namespace zap::zell::detail
