#include "zap/zuma/topology.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <forward_list>
#include <mutex>

#include "zap/zuma/topology_builder.hpp"

namespace zap::zuma {

Topology Topology::single_node(const CpuSet& cpus) {
  TopologyBuilder builder;
  builder.set_source(TopologySource::kFallback);
  if (cpus.empty()) {
    builder.add_core(0, CpuSet{0});
  } else {
    for (unsigned cpu : cpus) builder.add_core(0, CpuSet{cpu});
  }
  // Cannot fail: every core holds one distinct CPU.
  return *std::move(builder).build();
}

const Node* Topology::node(unsigned id) const noexcept {
  for (const Node& node : nodes_) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

CpuSet Topology::cpus_of_node(unsigned id) const noexcept {
  const Node* n = node(id);
  return n != nullptr ? n->cpus : CpuSet{};
}

const CpuInfo* Topology::cpu(unsigned id) const noexcept {
  if (id >= cpu_index_.size() || cpu_index_[id] < 0) return nullptr;
  return &cpus_[static_cast<std::size_t>(cpu_index_[id])];
}

std::optional<unsigned> Topology::node_of_cpu(unsigned id) const noexcept {
  const CpuInfo* info = cpu(id);
  if (info == nullptr) return std::nullopt;
  return info->node;
}

std::optional<unsigned> Topology::core_of_cpu(unsigned id) const noexcept {
  const CpuInfo* info = cpu(id);
  if (info == nullptr) return std::nullopt;
  return info->core;
}

CpuSet Topology::siblings_of(unsigned id) const noexcept {
  const CpuInfo* info = cpu(id);
  return info != nullptr ? cores_[info->core].cpus : CpuSet{};
}

std::optional<unsigned> Topology::os_cpu_of(unsigned id) const noexcept {
  const CpuInfo* info = cpu(id);
  if (info == nullptr) return std::nullopt;
  return info->os_cpu;
}

CpuSet Topology::os_cpus_of(const CpuSet& logical) const noexcept {
  CpuSet real;
  for (unsigned id : logical) {
    if (const CpuInfo* info = cpu(id)) real.add(info->os_cpu);
  }
  return real;
}

std::string Topology::describe() const {
  static constexpr const char* kSourceNames[] = {"sysfs", "fallback", "text", "builder"};
  std::string text = "topology (" + std::string(kSourceNames[static_cast<int>(source_)]) +
                     "): " + std::to_string(nodes_.size()) + " node(s), " +
                     std::to_string(cores_.size()) + " core(s), " + std::to_string(cpus_.size()) +
                     " cpu(s); line " + std::to_string(caches_.line_size) + " B, L1d " +
                     std::to_string(caches_.l1d_size) + " B, L2 " +
                     std::to_string(caches_.l2_size) + " B, L3 " + std::to_string(caches_.l3_size) +
                     " B\n";
  for (const Node& node : nodes_) {
    text += "node " + std::to_string(node.id) + ": cpus " + node.cpus.to_string() + " (real " +
            os_cpus_of(node.cpus).to_string() + "), " + std::to_string(node.cores.size()) +
            " core(s)\n";
  }
  return text;
}

// ---- process-wide topology ----------------------------------------------------------------

namespace {

// Every topology system() has handed out lives here until exit, so references never dangle.
struct SystemTopologyState {
  std::mutex mutex;
  std::forward_list<Topology> kept;               // guarded by mutex
  const Topology* detected = nullptr;             // guarded by mutex; set once
  std::atomic<const Topology*> current{nullptr};  // what system() returns
};

SystemTopologyState& state() {
  // Leaked on purpose: system() may be called from static destructors of other objects.
  static SystemTopologyState* const instance = new SystemTopologyState;
  return *instance;
}

Topology detect() {
  if (const char* text = std::getenv("ZAP_TOPOLOGY"); text != nullptr && *text != '\0') {
    if (auto parsed = Topology::parse(text)) return *std::move(parsed);
  }
  if (auto from_sysfs = Topology::from_sysfs("/sys")) return *std::move(from_sysfs);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const unsigned count = online > 0 ? static_cast<unsigned>(online) : 1;
  return Topology::single_node(CpuSet::range(0, count - 1));
}

}  // namespace

const Topology& Topology::system() {
  SystemTopologyState& s = state();
  // Acquire pairs with the release stores below: the Topology's contents are visible.
  if (const Topology* current = s.current.load(std::memory_order_acquire)) return *current;
  std::lock_guard lock(s.mutex);
  if (s.detected == nullptr) {
    s.kept.push_front(detect());
    s.detected = &s.kept.front();
  }
  const Topology* current = s.current.load(std::memory_order_relaxed);  // writers hold the mutex
  if (current == nullptr) {
    current = s.detected;
    s.current.store(current, std::memory_order_release);
  }
  return *current;
}

void Topology::set_override(Topology topology) {
  SystemTopologyState& s = state();
  std::lock_guard lock(s.mutex);
  s.kept.push_front(std::move(topology));
  s.current.store(&s.kept.front(), std::memory_order_release);
}

void Topology::clear_override() {
  SystemTopologyState& s = state();
  std::lock_guard lock(s.mutex);
  // Detection happens lazily on the next system() call.
  s.current.store(s.detected, std::memory_order_release);
}

}  // namespace zap::zuma
