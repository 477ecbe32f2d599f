// WorkerPlacement: which CPU and NUMA node each zell worker runs on, for /stats and /metrics.
//
//   zell::Runtime runtime(config);
//   app::Counters counters(app::worker_placement(config, runtime.worker_count()));
//
// zell lays workers out over the topology but exposes only each worker's dense node index, not
// its CPU, and lib/zell is not ours to widen for a report. So the layout is recomputed here from
// the same inputs -- the RuntimeConfig's topology (or Topology::system()) and CPU set -- with
// zell's rule (RuntimeConfig::workers, scheduler.cpp): the chosen CPUs in node-major order, worker
// i on CPU slot (i * n) / count when there are fewer workers than CPUs, else slot i % n.
// tests/apps/worker_placement_test.cpp checks it against a live Runtime's node_of_worker().
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <vector>

#include <zap/zell/config.hpp>

namespace zap::app {

struct WorkerPlacement {
  unsigned cpu = 0;     // logical CPU of the topology
  unsigned os_cpu = 0;  // real CPU the worker is pinned on (when the kernel lets it)
  unsigned node = 0;    // NUMA node id (as in the topology, not zell's dense index)
};

// One entry per worker, `workers` entries (the Runtime's worker_count()). Empty if the config's
// CPU set names no CPU of the topology (zell refuses to start then).
std::vector<WorkerPlacement> worker_placement(const zell::RuntimeConfig& config,
                                              std::size_t workers);

}  // namespace zap::app
