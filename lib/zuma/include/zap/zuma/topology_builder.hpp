// TopologyBuilder: describes a Topology in code -- for tests, simulations, and the detectors.
//
//   zap::zuma::TopologyBuilder builder;
//   builder.add_core(/*node=*/0, zap::zuma::CpuSet{0, 1})     // one core, two SMT siblings
//          .add_core(/*node=*/1, zap::zuma::CpuSet{2, 3})
//          .map_cpu(2, 0).map_cpu(3, 1);                     // node 1 runs on real CPUs 0,1
//   zap::zuma::Result<zap::zuma::Topology> topo = std::move(builder).build();
//
// Logical CPUs are those named by add_core; each belongs to exactly one core, and a core to one
// node. Unmapped CPUs run on the real CPU of the same number. build() checks the description and
// fails with Errc::kInvalidTopology if a CPU is in two cores, a core is empty, there is no CPU,
// or map_cpu names a CPU that no core holds.
//
// Thread-safety: none; build on one thread, then share the (immutable) Topology.
#pragma once

#include <vector>

#include "zap/zuma/cpu_set.hpp"
#include "zap/zuma/result.hpp"
#include "zap/zuma/topology.hpp"

namespace zap::zuma {

class TopologyBuilder {
 public:
  // A core on `node` (and physical `package`) whose SMT siblings are `cpus` (logical ids).
  TopologyBuilder& add_core(unsigned node, const CpuSet& cpus, unsigned package = 0);
  // Declares a node even if no core is on it (a memory-only node).
  TopologyBuilder& add_node(unsigned node);
  // Logical CPU `cpu` is pinned on real CPU `os_cpu`.
  TopologyBuilder& map_cpu(unsigned cpu, unsigned os_cpu);
  TopologyBuilder& set_caches(const CacheInfo& caches);
  TopologyBuilder& set_source(TopologySource source);

  Result<Topology> build() &&;

 private:
  struct CoreSpec {
    unsigned node;
    unsigned package;
    CpuSet cpus;
  };
  struct Mapping {
    unsigned cpu;
    unsigned os_cpu;
  };
  std::vector<CoreSpec> cores_;
  std::vector<unsigned> extra_nodes_;
  std::vector<Mapping> mappings_;
  CacheInfo caches_;
  TopologySource source_ = TopologySource::kBuilder;
  bool invalid_ = false;
};

}  // namespace zap::zuma
