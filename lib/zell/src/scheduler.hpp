// Scheduler: the workers of one Runtime, grouped by NUMA node, and the queues they share.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "blocking_pool.hpp"
#include "idle.hpp"
#include "injection_queue.hpp"
#include "worker.hpp"
#include "zap/zell/config.hpp"
#include "zap/zell/counters.hpp"
#include "zap/zuma/topology.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell::detail {

struct NodeState {
  unsigned id = 0;
  InjectionQueue inject;
  std::vector<Worker*> workers;
};

class Scheduler {
 public:
  // Lays out the workers; start() starts their threads. `ec` reports a bad configuration.
  Scheduler(const RuntimeConfig& config, std::error_code& ec);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  std::error_code start();
  // Stops and joins the workers, then destroys every task that has not finished. Idempotent.
  void shutdown() noexcept;
  // Threads that are not this scheduler's workers (plain threads, the blocking pool, another
  // runtime's workers) reach the queues, inboxes and reactors only through here: `act` runs under
  // a lock that shutdown takes once, before it closes anything; false (and `act` not run) after.
  template <typename Act>
  bool from_outside(Act&& act) noexcept {
    std::lock_guard guard(outside_lock_);
    if (outside_closed_) return false;
    act();
    return true;
  }

  bool stopping() const noexcept {
    // Acquire: pairs with shutdown()'s release store; nothing else is published through it.
    return stopping_.load(std::memory_order_acquire);
  }

  // A new task: registered, then made runnable (see submit_spawn()).
  void submit(TaskHeader* task, Worker* pinned, int node) noexcept;
  // Runnable tasks from outside a worker of this scheduler.
  void inject_global(TaskHeader* task) noexcept;
  void inject_node(unsigned node, TaskHeader* task) noexcept;
  void inject_node_batch(unsigned node, TaskHeader* first, TaskHeader* last,
                         std::size_t count) noexcept;

  // Work that a parking last searcher must not sleep on (a hint).
  bool any_work_hint(unsigned node) const noexcept;

  std::vector<std::unique_ptr<Worker>>& workers() noexcept { return workers_; }
  std::vector<std::unique_ptr<NodeState>>& nodes() noexcept { return nodes_; }
  NodeState& node(unsigned id) noexcept { return *nodes_[id]; }
  InjectionQueue& global() noexcept { return global_; }
  Idle& idle() noexcept { return idle_; }
  BlockingPool& blocking() noexcept { return blocking_; }
  Registry& external_registry() noexcept { return external_registry_; }
  std::vector<WorkerCounters> counters() const;
  const zuma::Topology& topology() const noexcept { return topology_; }

 private:
  // Registers a new task and queues it (here: the calling worker, or nullptr from outside).
  void enqueue_new(TaskHeader* task, Worker* pinned, int node, Worker* here) noexcept;
  // Shutdown, once no worker runs: frees every unfinished task (see scheduler.cpp).
  void drop_unfinished_tasks() noexcept;
  void register_queued_tasks(std::vector<TaskHeader*>& held) noexcept;
  RuntimeConfig config_;
  zuma::Topology topology_;
  std::vector<std::unique_ptr<NodeState>> nodes_;  // dense, by node index (topology order)
  std::vector<std::unique_ptr<Worker>> workers_;
  InjectionQueue global_;
  Idle idle_;
  Registry external_registry_;
  BlockingPool blocking_;
  std::atomic<bool> stopping_{false};
  zync::Mutex outside_lock_;
  bool outside_closed_ = false;  // guarded by outside_lock_
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace zap::zell::detail
