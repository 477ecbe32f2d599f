#include "zap/zuma/topology_builder.hpp"

#include <algorithm>
#include <map>

#include "zap/zuma/error.hpp"

namespace zap::zuma {

TopologyBuilder& TopologyBuilder::add_core(unsigned node, const CpuSet& cpus, unsigned package) {
  cores_.push_back(CoreSpec{node, package, cpus});
  return *this;
}

TopologyBuilder& TopologyBuilder::add_node(unsigned node) {
  extra_nodes_.push_back(node);
  return *this;
}

TopologyBuilder& TopologyBuilder::map_cpu(unsigned cpu, unsigned os_cpu) {
  if (cpu >= CpuSet::kMaxCpus || os_cpu >= CpuSet::kMaxCpus) invalid_ = true;
  mappings_.push_back(Mapping{cpu, os_cpu});
  return *this;
}

TopologyBuilder& TopologyBuilder::set_caches(const CacheInfo& caches) {
  caches_ = caches;
  return *this;
}

TopologyBuilder& TopologyBuilder::set_source(TopologySource source) {
  source_ = source;
  return *this;
}

Result<Topology> TopologyBuilder::build() && {
  if (invalid_ || cores_.empty()) return make_error_code(Errc::kInvalidTopology);

  CpuSet all;
  for (const CoreSpec& core : cores_) {
    if (core.cpus.empty() || !(all & core.cpus).empty())
      return make_error_code(Errc::kInvalidTopology);
    all |= core.cpus;
  }

  // Cores ordered by their lowest CPU, so that core indices follow CPU numbering.
  std::sort(cores_.begin(), cores_.end(),
            [](const CoreSpec& a, const CoreSpec& b) { return *a.cpus.first() < *b.cpus.first(); });

  Topology topology;
  topology.source_ = source_;
  topology.caches_ = caches_;
  topology.cpu_set_ = all;

  std::map<unsigned, Node> nodes;
  for (unsigned node : extra_nodes_) nodes[node].id = node;
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    const CoreSpec& spec = cores_[i];
    const auto index = static_cast<unsigned>(i);
    topology.cores_.push_back(Core{index, spec.node, spec.package, spec.cpus});
    Node& node = nodes[spec.node];
    node.id = spec.node;
    node.cpus |= spec.cpus;
    node.cores.push_back(index);
  }
  for (auto& [id, node] : nodes) topology.nodes_.push_back(std::move(node));

  const unsigned max_cpu = *all.nth(all.count() - 1);
  topology.cpu_index_.assign(max_cpu + 1, -1);
  for (unsigned cpu : all) {
    topology.cpu_index_[cpu] = static_cast<int>(topology.cpus_.size());
    topology.cpus_.push_back(CpuInfo{cpu, cpu, 0, 0, 0});
  }
  for (const Core& core : topology.cores_) {
    for (unsigned cpu : core.cpus) {
      CpuInfo& info = topology.cpus_[static_cast<std::size_t>(topology.cpu_index_[cpu])];
      info.node = core.node;
      info.core = core.index;
      info.package = core.package;
    }
  }
  for (const Mapping& mapping : mappings_) {
    if (!all.contains(mapping.cpu)) return make_error_code(Errc::kInvalidTopology);
    topology.cpus_[static_cast<std::size_t>(topology.cpu_index_[mapping.cpu])].os_cpu =
        mapping.os_cpu;
  }
  return topology;
}

}  // namespace zap::zuma
