// Topology::from_sysfs: reads /sys/devices/system/{cpu,node} (or the same tree under a test root).
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "text_util.hpp"
#include "zap/zuma/error.hpp"
#include "zap/zuma/topology.hpp"
#include "zap/zuma/topology_builder.hpp"

namespace zap::zuma {
namespace {

namespace fs = std::filesystem;

// A CPU list file; nullopt if missing or malformed (callers fall back).
std::optional<CpuSet> read_cpu_list(const fs::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return std::nullopt;
  auto cpus = CpuSet::parse(*text);
  if (!cpus) return std::nullopt;
  return *cpus;
}

// A small integer file (core_id, physical_package_id, level); nullopt if missing, malformed or
// negative (physical_package_id is -1 on some virtual machines).
std::optional<unsigned> read_unsigned(const fs::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return std::nullopt;
  auto value = detail::parse_unsigned(*text);
  if (!value || *value > 0xffffffffULL) return std::nullopt;
  return static_cast<unsigned>(*value);
}

// node id -> its CPUs, from node/node<N>/cpulist. Empty map if there is no node directory.
std::map<unsigned, CpuSet> read_nodes(const fs::path& node_dir) {
  std::map<unsigned, CpuSet> nodes;
  std::error_code ec;
  fs::directory_iterator it(node_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("node")) continue;
    const auto id = detail::parse_unsigned(std::string_view(name).substr(4));
    if (!id || *id >= CpuSet::kMaxCpus) continue;  // "node" alone, "nodeX", absurd ids
    nodes[static_cast<unsigned>(*id)] = read_cpu_list(it->path() / "cpulist").value_or(CpuSet{});
  }
  return nodes;
}

// Cache facts of one CPU from cpu<N>/cache/index*/.
CacheInfo read_caches(const fs::path& cache_dir) {
  CacheInfo caches;
  bool have_line = false;
  std::error_code ec;
  fs::directory_iterator it(cache_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (!it->path().filename().string().starts_with("index")) continue;
    const auto level = read_unsigned(it->path() / "level");
    auto type_text = detail::read_text_file(it->path() / "type");
    auto size_text = detail::read_text_file(it->path() / "size");
    if (!level || !type_text || !size_text) continue;
    const std::string_view type = detail::trim(*type_text);
    const auto size = detail::parse_size(*size_text);
    if (!size || type == "Instruction") continue;  // "Data" or "Unified"
    if (*level == 1) {
      caches.l1d_size = *size;
      if (const auto line = read_unsigned(it->path() / "coherency_line_size"); line && *line > 0) {
        caches.line_size = *line;
        have_line = true;
      }
    } else if (*level == 2) {
      caches.l2_size = *size;
    } else if (*level == 3) {
      caches.l3_size = *size;
    }
  }
  if (!have_line) caches.line_size = 64;
  return caches;
}

}  // namespace

Result<Topology> Topology::from_sysfs(const std::filesystem::path& sysfs_root) {
  const fs::path cpu_dir = sysfs_root / "devices" / "system" / "cpu";
  auto online_text = detail::read_text_file(cpu_dir / "online");
  if (!online_text) return online_text.error();
  auto online = CpuSet::parse(*online_text);
  if (!online || online->empty()) return make_error_code(Errc::kMalformedSystemFile);

  // A CPU in no node's cpulist (or no node directory at all) goes to the lowest node.
  std::map<unsigned, CpuSet> nodes = read_nodes(sysfs_root / "devices" / "system" / "node");
  const unsigned default_node = nodes.empty() ? 0 : nodes.begin()->first;
  auto node_of = [&](unsigned cpu) {
    for (const auto& [id, cpus] : nodes) {
      if (cpus.contains(cpu)) return id;
    }
    return default_node;
  };

  TopologyBuilder builder;
  builder.set_source(TopologySource::kSysfs);
  builder.add_node(default_node);
  for (const auto& [id, cpus] : nodes) builder.add_node(id);

  // Per CPU: thread_siblings_list, package, core_id (each may be missing in a sandboxed sysfs).
  struct CpuFacts {
    unsigned cpu;
    std::optional<CpuSet> siblings;
    unsigned package;
    std::optional<unsigned> core_id;
  };
  std::vector<CpuFacts> facts;
  for (unsigned cpu : *online) {
    const fs::path dir = cpu_dir / ("cpu" + std::to_string(cpu)) / "topology";
    facts.push_back(CpuFacts{cpu, read_cpu_list(dir / "thread_siblings_list"),
                             read_unsigned(dir / "physical_package_id").value_or(0),
                             read_unsigned(dir / "core_id")});
  }

  // A core is a CPU with its online SMT siblings not yet placed: from thread_siblings_list, or
  // failing that the CPUs with the same (physical_package_id, core_id), or failing that itself.
  CpuSet placed;
  for (const CpuFacts& f : facts) {
    if (placed.contains(f.cpu)) continue;
    CpuSet core;
    if (f.siblings) {
      core = *f.siblings;
    } else if (f.core_id) {
      for (const CpuFacts& other : facts) {
        if (other.package == f.package && other.core_id == f.core_id) core.add(other.cpu);
      }
    }
    core &= *online;
    core -= placed;
    core.add(f.cpu);
    builder.add_core(node_of(f.cpu), core, f.package);
    placed |= core;
  }

  const unsigned first_cpu = *online->first();
  builder.set_caches(read_caches(cpu_dir / ("cpu" + std::to_string(first_cpu)) / "cache"));
  return std::move(builder).build();
}

}  // namespace zap::zuma
