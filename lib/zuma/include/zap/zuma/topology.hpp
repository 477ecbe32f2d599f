// Topology: the machine as the runtime sees it -- NUMA nodes -> cores -> logical CPUs, SMT
// siblings, and cache sizes -- detected from sysfs, or described in text or code.
//
//   const zap::zuma::Topology& topo = zap::zuma::Topology::system();
//   for (const zap::zuma::Node& node : topo.nodes()) {
//     for (unsigned cpu : node.cpus) start_worker(cpu, node.id, *topo.os_cpu_of(cpu));
//   }
//
// Logical CPUs vs real CPUs. Every logical CPU carries `os_cpu`, the real (kernel) CPU to pin
// a thread on. From sysfs the two are equal. A simulated topology may map several logical CPUs
// onto one real CPU, so a 2-node x 2-core machine can be exercised on a 1-node, 2-CPU box.
//
// Sources, in the order Topology::system() tries them on first use (then fixed for the process,
// except that set_override()/clear_override() switch it at any time):
//   1. an override installed with set_override();
//   2. the environment variable ZAP_TOPOLOGY, parsed with Topology::parse() (text format below);
//      if it does not parse it is ignored -- validate it yourself at start-up with parse() to
//      report the error;
//   3. sysfs at /sys (from_sysfs);
//   4. one node holding CPUs 0..N-1, N = online CPUs (sysconf), if sysfs is unreadable.
//
// Text formats (Topology::parse). Two, told apart by the first word: "node" alone starts the
// node-per-line format, anything else is the key=value format. In both, '#' to end of line is a
// comment and blank lines are ignored. A CPU list is the kernel's: "0-3,8-11".
//
// 1. Node per line -- the natural way to write down a machine, or a simulated one:
//      # simulated 2 nodes x 2 cores, on the 2 CPUs of a small machine
//      node 0: 0-1
//      node 1: 2-3 on 0-1
//    Statements end at a newline or ';' ("node 0: 0-1; node 1: 2-3 on 0-1" fits in a JSON string
//    or an environment variable). Each is one of:
//      node ID: LIST [smt LIST]... [on LIST]
//                       NUMA node ID; every CPU of LIST (logical ids) is a core of its own.
//                       `smt LIST` gives each core one more SMT sibling: the i-th CPU of this list
//                       joins the core of the i-th CPU of the first list, so
//                       "node 0: 0-3 smt 4-7" makes cores {0,4} {1,5} {2,6} {3,7}; repeat it
//                       for more threads per core; it must name as many CPUs as the first list.
//                       `on LIST` gives the real CPUs that the node's logical CPUs, taken in
//                       ascending order, are pinned on, expanded in the order written ("0,0" is
//                       fine); it must name one real CPU per logical CPU of the node.
//                       Without `on`, logical CPU i runs on real CPU i. Package = node id.
//      node ID: none    a node with memory and no CPUs.
//      cache [line=BYTES] [l1d=SIZE] [l2=SIZE] [l3=SIZE]   at most once; as in format 2.
//    Node ids need not be contiguous or in order; each appears once, a CPU in one node only,
//    and at least one node has a CPU. Errors start with "line N: " (lines count from 1).
//
// 2. key=value: whitespace-separated pairs, each key at most once:
//   nodes=N              required, >= 1: NUMA nodes, ids 0..N-1
//   cores_per_node=C     required, >= 1
//   threads_per_core=T   optional, default 1: SMT siblings per core
//   cpus=LIST            optional: the real CPU of each logical CPU, in logical order, as CPU-list
//                        elements expanded in the order written ("0,1,0,1" == "0-1,0-1");
//                        must name exactly N*C*T CPUs. Default: logical CPU i on real CPU i.
//   line=BYTES l1d=SIZE l2=SIZE l3=SIZE   optional cache facts; SIZE takes a K/M/G suffix
//                        (powers of 1024). Default: line=64, sizes 0 (unknown).
// Logical CPUs are numbered node-major: node n, core c, thread t is CPU (n*C + c)*T + t; core
// index n*C + c; all in package n. Example, 2 nodes x 2 cores on the 2 CPUs of a small machine:
//   "nodes=2 cores_per_node=2 cpus=0,1,0,1"
// gives node 0 = CPUs 0-1 (real 0,1), node 1 = CPUs 2-3 (real 0,1) -- the same topology as the
// node-per-line example above.
//
// Thread-safety: a Topology is immutable after construction; share it freely. system(),
// set_override() and clear_override() are safe to call concurrently. A reference returned by
// system() stays valid for the life of the process (every installed topology is kept), but a
// later set_override() is not seen through an old reference.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zap/zuma/cpu_set.hpp"
#include "zap/zuma/parse_error.hpp"
#include "zap/zuma/result.hpp"

namespace zap::zuma {

// Cache facts for the first CPU of the topology (caches are assumed uniform across CPUs).
struct CacheInfo {
  std::size_t line_size = 64;  // coherency line size of the L1 data cache, bytes
  std::size_t l1d_size = 0;    // bytes; 0 = unknown
  std::size_t l2_size = 0;     // bytes; 0 = unknown
  std::size_t l3_size = 0;     // bytes; 0 = unknown

  friend bool operator==(const CacheInfo&, const CacheInfo&) = default;
};

// One logical CPU.
struct CpuInfo {
  unsigned id = 0;       // logical CPU id (== os_cpu when detected from sysfs)
  unsigned os_cpu = 0;   // real CPU to pin on
  unsigned node = 0;     // NUMA node id
  unsigned core = 0;     // index into Topology::cores()
  unsigned package = 0;  // physical package (socket) id
};

// One physical core: its SMT siblings.
struct Core {
  unsigned index = 0;    // position in Topology::cores()
  unsigned node = 0;     // NUMA node id
  unsigned package = 0;  // physical package id
  CpuSet cpus;           // logical CPUs (SMT siblings), never empty
};

// One NUMA node. `cpus` may be empty (a memory-only node).
struct Node {
  unsigned id = 0;
  CpuSet cpus;                  // logical CPUs
  std::vector<unsigned> cores;  // indices into Topology::cores(), ascending
};

// Where a Topology came from.
enum class TopologySource { kSysfs, kFallback, kText, kBuilder };

class Topology {
 public:
  // Reads <sysfs_root>/devices/system/{cpu,node}. Without a node directory: one node 0 with all
  // online CPUs. Errors: ENOENT etc. (system_category) if cpu/online cannot be read,
  // Errc::kMalformedSystemFile if a file that must parse does not.
  static Result<Topology> from_sysfs(const std::filesystem::path& sysfs_root = "/sys");
  // Parses either text format of the header comment. ParseError::position is a byte offset
  // into `text`.
  static Result<Topology, ParseError> parse(std::string_view text);
  // One node 0, one core per CPU, os_cpu == id. Empty `cpus` gives CPU 0.
  static Topology single_node(const CpuSet& cpus);

  // The process-wide topology (see the header comment for the order of sources).
  static const Topology& system();
  // Makes system() return `topology` from now on, for the whole process.
  static void set_override(Topology topology);
  // Makes system() return the detected topology again.
  static void clear_override();

  std::span<const Node> nodes() const noexcept { return nodes_; }
  std::size_t node_count() const noexcept { return nodes_.size(); }
  // nullptr if there is no node with that id.
  const Node* node(unsigned id) const noexcept;
  // Empty if there is no node with that id.
  CpuSet cpus_of_node(unsigned node) const noexcept;
  std::optional<unsigned> node_of_cpu(unsigned cpu) const noexcept;

  std::span<const Core> cores() const noexcept { return cores_; }
  std::optional<unsigned> core_of_cpu(unsigned cpu) const noexcept;
  // The SMT siblings of `cpu`, itself included; empty for an unknown CPU.
  CpuSet siblings_of(unsigned cpu) const noexcept;

  // Logical CPUs, ascending by id.
  std::span<const CpuInfo> cpus() const noexcept { return cpus_; }
  std::size_t cpu_count() const noexcept { return cpus_.size(); }
  CpuSet cpu_set() const noexcept { return cpu_set_; }
  // nullptr for an unknown CPU.
  const CpuInfo* cpu(unsigned id) const noexcept;
  // The real CPU to pin logical `cpu` on.
  std::optional<unsigned> os_cpu_of(unsigned cpu) const noexcept;
  // The real CPUs of the logical CPUs in `cpus` (unknown ones skipped).
  CpuSet os_cpus_of(const CpuSet& cpus) const noexcept;

  const CacheInfo& caches() const noexcept { return caches_; }
  std::size_t cache_line_size() const noexcept { return caches_.line_size; }
  TopologySource source() const noexcept { return source_; }

  // Multi-line human-readable summary, for logs ("node 0: cpus 0-1 (real 0-1), 2 cores ...").
  std::string describe() const;

 private:
  friend class TopologyBuilder;
  Topology() = default;

  std::vector<Node> nodes_;     // ascending by id
  std::vector<Core> cores_;     // ascending by lowest CPU
  std::vector<CpuInfo> cpus_;   // ascending by id
  std::vector<int> cpu_index_;  // logical id -> index in cpus_, or -1
  CpuSet cpu_set_;
  CacheInfo caches_;
  TopologySource source_ = TopologySource::kBuilder;
};

}  // namespace zap::zuma
