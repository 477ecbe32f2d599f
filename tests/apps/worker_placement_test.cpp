#include "worker_placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <zap/zell/runtime.hpp>
#include <zap/zuma/topology.hpp>

namespace zap::app {
namespace {

zell::RuntimeConfig simulated(const char* topology_text, std::size_t workers = 0) {
  zell::RuntimeConfig config;
  auto topology = zuma::Topology::parse(topology_text);
  EXPECT_TRUE(topology) << topology.error().to_string();
  if (topology) config.topology = *std::move(topology);
  config.workers = workers;
  config.io_backend = zell::IoBackend::kNone;  // placement only; no IO needed
  return config;
}

// The placement a Runtime built from `config` reports.
std::vector<WorkerPlacement> placement_of(const zell::RuntimeConfig& config) {
  zell::Runtime runtime(config);
  auto placement = worker_placement(runtime, config);
  runtime.shutdown();
  return placement;
}

std::vector<unsigned> cpus_of(const std::vector<WorkerPlacement>& placement) {
  std::vector<unsigned> cpus;
  for (const WorkerPlacement& p : placement) cpus.push_back(p.cpu);
  return cpus;
}

TEST(WorkerPlacement, OneWorkerPerCpuNodeByNodeWithRealCpus) {
  // 2 nodes x 2 cores simulated on real CPUs 0-1.
  const auto placement = placement_of(simulated("node 0: 0-1\nnode 1: 2-3 on 0-1", 4));
  ASSERT_EQ(placement.size(), 4u);
  EXPECT_EQ(cpus_of(placement), (std::vector<unsigned>{0, 1, 2, 3}));
  EXPECT_EQ(placement[0].node, 0u);
  EXPECT_EQ(placement[1].node, 0u);
  EXPECT_EQ(placement[2].node, 1u);
  EXPECT_EQ(placement[3].node, 1u);
  EXPECT_EQ(placement[2].os_cpu, 0u);
  EXPECT_EQ(placement[3].os_cpu, 1u);
}

TEST(WorkerPlacement, FewerWorkersSpreadOverNodesMoreWorkersWrap) {
  const auto two = placement_of(simulated("node 0: 0-1; node 1: 2-3 on 0-1", 2));
  EXPECT_EQ(cpus_of(two), (std::vector<unsigned>{0, 2}));  // one per node, not both on node 0
  EXPECT_EQ(two[1].node, 1u);

  const auto five = placement_of(simulated("node 0: 0-1; node 1: 2-3 on 0-1", 5));
  EXPECT_EQ(cpus_of(five), (std::vector<unsigned>{0, 1, 2, 3, 0}));
}

TEST(WorkerPlacement, HonoursTheCpuSetAndReportsNodeIdsNotIndices) {
  zell::RuntimeConfig config = simulated("node 0: 0-1 on 0,0\nnode 3: 2-3 on 1,1");
  config.cpus = zuma::CpuSet{1, 2};
  config.workers = 2;
  const auto placement = placement_of(config);
  ASSERT_EQ(placement.size(), 2u);
  EXPECT_EQ(placement[0].cpu, 1u);
  EXPECT_EQ(placement[0].node, 0u);
  EXPECT_EQ(placement[1].cpu, 2u);
  EXPECT_EQ(placement[1].node, 3u);  // the topology's id; zell's dense index would be 1
  EXPECT_EQ(placement[1].os_cpu, 1u);
}

// Node ids and real CPUs agree with the running Runtime, whose node_of_worker() gives the
// dense index of each worker's node.
TEST(WorkerPlacement, AgreesWithTheRuntime) {
  const char* layouts[] = {"node 0: 0-1\nnode 1: 2-3 on 0-1", "node 1: 0 on 0; node 4: 1-5 on 0-4",
                           "nodes=2 cores_per_node=3 cpus=0,1,0,1,0,1"};
  for (const char* layout : layouts) {
    for (std::size_t workers : {0u, 1u, 3u, 7u}) {
      const zell::RuntimeConfig config = simulated(layout, workers);
      zell::Runtime runtime(config);
      const auto placement = worker_placement(runtime, config);
      ASSERT_EQ(placement.size(), runtime.worker_count()) << layout << ", " << workers;
      std::vector<unsigned> node_ids;  // nodes holding chosen CPUs, in topology order
      for (const zuma::Node& node : config.topology->nodes()) {
        if (!node.cpus.empty()) node_ids.push_back(node.id);
      }
      for (std::size_t w = 0; w < placement.size(); ++w) {
        const auto dense = static_cast<unsigned>(
            std::find(node_ids.begin(), node_ids.end(), placement[w].node) - node_ids.begin());
        EXPECT_EQ(dense, runtime.node_of_worker(w)) << layout << ", worker " << w;
        EXPECT_EQ(placement[w].os_cpu, *config.topology->os_cpu_of(placement[w].cpu));
      }
      runtime.shutdown();
    }
  }
}

}  // namespace
}  // namespace zap::app
