// WorkerCounters: what one worker of a Runtime has done, for tests, daemons and dashboards.
//
//   for (const zap::zell::WorkerCounters& c : runtime.counters()) {
//     std::printf("worker %u (node %u): %llu tasks, %llu steals\n", c.worker, c.node,
//                 (unsigned long long)c.tasks_run, (unsigned long long)c.steals_same_node);
//   }
//
// Each counter is written only by its worker (relaxed atomics), so a snapshot taken from another
// thread is a consistent-enough view: every value is one the worker really had, but different
// counters may be read at slightly different moments.
#pragma once

#include <cstdint>

namespace zap::zell {

struct WorkerCounters {
  unsigned worker = 0;                     // index in the runtime, 0..workers-1
  unsigned node = 0;                       // NUMA node (of the runtime's topology)
  unsigned cpu = 0;                        // logical CPU of the topology it serves
  std::uint64_t tasks_run = 0;             // task resumptions
  std::uint64_t lifo_runs = 0;             // of which taken from the LIFO slot
  std::uint64_t steals_same_node = 0;      // successful steal operations from a same-node worker
  std::uint64_t steals_cross_node = 0;     // ... from a worker on another node
  std::uint64_t tasks_stolen = 0;          // tasks moved by those steals
  std::uint64_t injected_run_on_node = 0;  // tasks taken from this node's injection queue
  std::uint64_t injected_run_foreign = 0;  // tasks taken from another node's injection queue
  std::uint64_t injected_run_global = 0;   // tasks taken from the global injection queue
  std::uint64_t parks = 0;                 // times the worker went to sleep
  std::uint64_t cancelled = 0;             // tasks dropped because of cancellation
};

}  // namespace zap::zell
