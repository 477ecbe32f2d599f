// WorkerPlacement: which CPU and NUMA node each zell worker runs on, for /stats and /metrics.
//
//   zell::Runtime runtime(config);
//   app::Counters counters(app::worker_placement(runtime, config));
//
// The runtime says which logical CPU each worker serves (Runtime::counters()); the topology it
// was built from (the config's, or Topology::system()) turns that CPU into the real CPU the
// worker is pinned on and the NUMA node's id (zell reports a dense node index).
//
// Thread-safety: reads the runtime's counters, which any thread may do.
#pragma once

#include <cstddef>
#include <vector>

#include <zap/zell/config.hpp>
#include <zap/zell/runtime.hpp>

namespace zap::app {

struct WorkerPlacement {
  unsigned cpu = 0;     // logical CPU of the topology
  unsigned os_cpu = 0;  // real CPU the worker is pinned on (when the kernel lets it)
  unsigned node = 0;    // NUMA node id (as in the topology, not zell's dense index)
};

// One entry per worker of `runtime`, which was built from `config`.
std::vector<WorkerPlacement> worker_placement(const zell::Runtime& runtime,
                                              const zell::RuntimeConfig& config);

}  // namespace zap::app
