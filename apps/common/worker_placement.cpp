#include "worker_placement.hpp"

#include <zap/zuma/topology.hpp>

namespace zap::app {

std::vector<WorkerPlacement> worker_placement(const zell::Runtime& runtime,
                                              const zell::RuntimeConfig& config) {
  // The same topology the scheduler was built from (it also falls back to Topology::system()).
  const zuma::Topology topology = config.topology ? *config.topology : zuma::Topology::system();
  std::vector<WorkerPlacement> placement;
  for (const zell::WorkerCounters& worker : runtime.counters()) {
    const zuma::CpuInfo* cpu = topology.cpu(worker.cpu);
    if (cpu == nullptr) return {};  // cannot happen with the runtime's own topology
    placement.push_back(WorkerPlacement{cpu->id, cpu->os_cpu, cpu->node});
  }
  return placement;
}

}  // namespace zap::app
