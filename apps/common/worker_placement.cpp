#include "worker_placement.hpp"

#include <zap/zuma/topology.hpp>

namespace zap::app {

std::vector<WorkerPlacement> worker_placement(const zell::RuntimeConfig& config,
                                              std::size_t workers) {
  const zuma::Topology& topology = config.topology ? *config.topology : zuma::Topology::system();
  const zuma::CpuSet chosen =
      config.cpus ? (*config.cpus & topology.cpu_set()) : topology.cpu_set();
  // Node-major, as zell orders them: the chosen CPUs of each node in turn, ascending.
  std::vector<const zuma::CpuInfo*> ordered;
  for (const zuma::Node& node : topology.nodes()) {
    for (unsigned cpu : node.cpus& chosen) ordered.push_back(topology.cpu(cpu));
  }
  std::vector<WorkerPlacement> placement;
  if (ordered.empty()) return placement;
  const std::size_t n = ordered.size();
  placement.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    const std::size_t slot = workers < n ? (i * n) / workers : i % n;
    const zuma::CpuInfo& cpu = *ordered[slot];
    placement.push_back(WorkerPlacement{cpu.id, cpu.os_cpu, cpu.node});
  }
  return placement;
}

}  // namespace zap::app
