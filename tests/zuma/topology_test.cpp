#include "zap/zuma/topology.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zap/zuma/error.hpp"
#include "zap/zuma/this_thread.hpp"
#include "zap/zuma/thread.hpp"
#include "zap/zuma/topology_builder.hpp"

namespace zap::zuma {
namespace {

namespace fs = std::filesystem;

// A throw-away directory tree shaped like /sys, removed at the end of the test.
class FakeSysfs {
 public:
  FakeSysfs() {
    std::string pattern = (fs::temp_directory_path() / "zuma-sysfs-XXXXXX").string();
    root_ = mkdtemp(pattern.data());
  }
  ~FakeSysfs() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const fs::path& root() const { return root_; }

  void write(const std::string& relative, const std::string& content) {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }

  void add_cpu(unsigned cpu, unsigned package, unsigned core_id, const std::string& siblings) {
    const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/";
    write(dir + "topology/core_id", std::to_string(core_id) + "\n");
    write(dir + "topology/physical_package_id", std::to_string(package) + "\n");
    write(dir + "topology/thread_siblings_list", siblings + "\n");
    write_cache(cpu, 0, 1, "Data", "48K", 64);
    write_cache(cpu, 1, 1, "Instruction", "32K", 64);
    write_cache(cpu, 2, 2, "Unified", "2048K", 64);
    write_cache(cpu, 3, 3, "Unified", "32M", 64);
  }

 private:
  void write_cache(unsigned cpu, unsigned index, unsigned level, const char* type, const char* size,
                   unsigned line) {
    const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/cache/index" +
                            std::to_string(index) + "/";
    write(dir + "level", std::to_string(level) + "\n");
    write(dir + "type", std::string(type) + "\n");
    write(dir + "size", std::string(size) + "\n");
    write(dir + "coherency_line_size", std::to_string(line) + "\n");
  }

  fs::path root_;
};

// 2 packages = 2 nodes, each 2 cores x 2 SMT threads, Intel-style numbering (siblings n, n+4).
void build_two_node_smt_machine(FakeSysfs& sysfs) {
  sysfs.write("devices/system/cpu/online", "0-7\n");
  sysfs.write("devices/system/node/node0/cpulist", "0-1,4-5\n");
  sysfs.write("devices/system/node/node1/cpulist", "2-3,6-7\n");
  sysfs.write("devices/system/node/possible", "0-1\n");  // not a node directory: ignored
  for (unsigned cpu = 0; cpu < 8; ++cpu) {
    const unsigned base = cpu % 4;
    sysfs.add_cpu(cpu, /*package=*/base / 2, /*core_id=*/base % 2,
                  std::to_string(base) + "," + std::to_string(base + 4));
  }
}

TEST(Topology, ReadsNodesCoresSiblingsAndCachesFromSysfs) {
  FakeSysfs sysfs;
  build_two_node_smt_machine(sysfs);
  auto topo = Topology::from_sysfs(sysfs.root());
  ASSERT_TRUE(topo) << topo.error().message();

  EXPECT_EQ(topo->source(), TopologySource::kSysfs);
  EXPECT_EQ(topo->cpu_count(), 8u);
  ASSERT_EQ(topo->node_count(), 2u);
  EXPECT_EQ(topo->nodes()[0].id, 0u);
  EXPECT_EQ(topo->cpus_of_node(0), (CpuSet{0, 1, 4, 5}));
  EXPECT_EQ(topo->cpus_of_node(1), (CpuSet{2, 3, 6, 7}));
  EXPECT_EQ(topo->node_of_cpu(6), 1u);
  EXPECT_EQ(topo->node_of_cpu(8), std::nullopt);

  ASSERT_EQ(topo->cores().size(), 4u);
  EXPECT_EQ(topo->siblings_of(1), (CpuSet{1, 5}));
  EXPECT_EQ(topo->siblings_of(7), (CpuSet{3, 7}));
  EXPECT_EQ(topo->core_of_cpu(1), topo->core_of_cpu(5));
  EXPECT_NE(topo->core_of_cpu(0), topo->core_of_cpu(1));
  EXPECT_EQ(topo->nodes()[1].cores.size(), 2u);
  EXPECT_EQ(topo->cpu(6)->package, 1u);
  EXPECT_EQ(topo->os_cpu_of(6), 6u);

  EXPECT_EQ(topo->cache_line_size(), 64u);
  EXPECT_EQ(topo->caches().l1d_size, 48u * 1024);
  EXPECT_EQ(topo->caches().l2_size, 2048u * 1024);
  EXPECT_EQ(topo->caches().l3_size, 32u * 1024 * 1024);
}

TEST(Topology, WithoutNodeDirectoryAllOnlineCpusAreNodeZero) {
  FakeSysfs sysfs;
  sysfs.write("devices/system/cpu/online", "0-2\n");
  for (unsigned cpu = 0; cpu < 3; ++cpu) sysfs.add_cpu(cpu, 0, cpu, std::to_string(cpu));
  auto topo = Topology::from_sysfs(sysfs.root());
  ASSERT_TRUE(topo) << topo.error().message();
  ASSERT_EQ(topo->node_count(), 1u);
  EXPECT_EQ(topo->nodes()[0].id, 0u);
  EXPECT_EQ(topo->cpus_of_node(0), (CpuSet{0, 1, 2}));
  EXPECT_EQ(topo->cores().size(), 3u);
}

TEST(Topology, OfflineCpusAreLeftOutAndMissingFilesDefault) {
  FakeSysfs sysfs;
  sysfs.write("devices/system/cpu/online", "0,2\n");  // cpu1 offline; no topology dirs at all
  auto topo = Topology::from_sysfs(sysfs.root());
  ASSERT_TRUE(topo) << topo.error().message();
  EXPECT_EQ(topo->cpu_set(), (CpuSet{0, 2}));
  EXPECT_EQ(topo->cpu(1), nullptr);
  EXPECT_EQ(topo->siblings_of(2), CpuSet{2});
  EXPECT_EQ(topo->cache_line_size(), 64u);
  EXPECT_EQ(topo->caches().l3_size, 0u);
}

TEST(Topology, WithoutSiblingListsCoresComeFromPackageAndCoreId) {
  FakeSysfs sysfs;
  sysfs.write("devices/system/cpu/online", "0-3\n");
  for (unsigned cpu = 0; cpu < 4; ++cpu) {
    const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    sysfs.write(dir + "physical_package_id", "0\n");
    sysfs.write(dir + "core_id", std::to_string(cpu % 2) + "\n");  // siblings 0,2 and 1,3
  }
  auto topo = Topology::from_sysfs(sysfs.root());
  ASSERT_TRUE(topo) << topo.error().message();
  EXPECT_EQ(topo->cores().size(), 2u);
  EXPECT_EQ(topo->siblings_of(2), (CpuSet{0, 2}));
}

TEST(Topology, MemoryOnlyNodeHasNoCpus) {
  FakeSysfs sysfs;
  sysfs.write("devices/system/cpu/online", "0-1\n");
  sysfs.write("devices/system/node/node0/cpulist", "0-1\n");
  sysfs.write("devices/system/node/node1/cpulist", "\n");
  auto topo = Topology::from_sysfs(sysfs.root());
  ASSERT_TRUE(topo);
  ASSERT_EQ(topo->node_count(), 2u);
  EXPECT_TRUE(topo->cpus_of_node(1).empty());
}

TEST(Topology, MissingOrMalformedOnlineFileIsAnError) {
  FakeSysfs sysfs;
  auto missing = Topology::from_sysfs(sysfs.root());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);

  sysfs.write("devices/system/cpu/online", "0-\n");
  auto malformed = Topology::from_sysfs(sysfs.root());
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error(), Errc::kMalformedSystemFile);
}

TEST(Topology, SimulatesTwoNodesOfTwoCoresOnTwoRealCpus) {
  auto topo = Topology::parse("nodes=2 cores_per_node=2 threads_per_core=1 cpus=0,1,0,1");
  ASSERT_TRUE(topo) << topo.error().to_string();
  EXPECT_EQ(topo->source(), TopologySource::kText);
  EXPECT_EQ(topo->cpu_count(), 4u);
  ASSERT_EQ(topo->node_count(), 2u);
  EXPECT_EQ(topo->cpus_of_node(0), (CpuSet{0, 1}));
  EXPECT_EQ(topo->cpus_of_node(1), (CpuSet{2, 3}));
  EXPECT_EQ(topo->node_of_cpu(3), 1u);
  EXPECT_EQ(topo->cores().size(), 4u);
  EXPECT_EQ(topo->siblings_of(2), CpuSet{2});
  EXPECT_EQ(topo->os_cpu_of(0), 0u);
  EXPECT_EQ(topo->os_cpu_of(1), 1u);
  EXPECT_EQ(topo->os_cpu_of(2), 0u);
  EXPECT_EQ(topo->os_cpu_of(3), 1u);
  EXPECT_EQ(topo->os_cpus_of(topo->cpus_of_node(1)), (CpuSet{0, 1}));
}

TEST(Topology, SimulatedCpusPinOntoTheirRealCpus) {
  auto topo = Topology::parse("nodes=2 cores_per_node=2 cpus=0-1,0-1");
  ASSERT_TRUE(topo) << topo.error().to_string();
  auto allowed = this_thread::affinity();
  ASSERT_TRUE(allowed);
  for (const CpuInfo& cpu : topo->cpus()) {
    if (!allowed->contains(cpu.os_cpu)) continue;  // e.g. a restricted container
    ThreadOptions options;
    options.affinity = CpuSet{cpu.os_cpu};
    Result<unsigned> ran_on = std::make_error_code(std::errc::not_supported);
    auto thread = Thread::spawn(options, [&] { ran_on = this_thread::current_cpu(); });
    ASSERT_TRUE(thread) << thread.error().message();
    ASSERT_FALSE(thread->join());
    ASSERT_TRUE(ran_on);
    EXPECT_EQ(*ran_on, cpu.os_cpu) << "logical cpu " << cpu.id;
  }
}

TEST(Topology, TextFormatWithSmtCachesAndComments) {
  auto topo = Topology::parse(
      "# two sockets\n"
      "nodes=2\n"
      "cores_per_node=2  threads_per_core=2   # SMT\n"
      "line=128 l1d=32K l2=1M l3=16M\n");
  ASSERT_TRUE(topo) << topo.error().to_string();
  EXPECT_EQ(topo->cpu_count(), 8u);
  EXPECT_EQ(topo->siblings_of(5), (CpuSet{4, 5}));
  EXPECT_EQ(topo->cpus_of_node(1), CpuSet::range(4, 7));
  EXPECT_EQ(topo->os_cpu_of(7), 7u);  // no cpus=: identity
  EXPECT_EQ(topo->cpu(5)->package, 1u);
  EXPECT_EQ(topo->cache_line_size(), 128u);
  EXPECT_EQ(topo->caches().l1d_size, 32u * 1024);
  EXPECT_EQ(topo->caches().l2_size, 1u << 20);
  EXPECT_EQ(topo->caches().l3_size, 16u << 20);
}

struct BadText {
  const char* text;
  std::size_t position;
  const char* message_part;
};

// Every text fails to parse, at its position, with a message that contains its message_part.
template <std::size_t N>
void expect_parse_errors(const BadText (&cases)[N]) {
  for (const BadText& c : cases) {
    auto topo = Topology::parse(c.text);
    ASSERT_FALSE(topo) << c.text;
    EXPECT_EQ(topo.error().position, c.position) << c.text << ": " << topo.error().to_string();
    EXPECT_NE(topo.error().message.find(c.message_part), std::string::npos)
        << c.text << ": " << topo.error().to_string();
  }
}

TEST(Topology, TextParseErrorsNameTheProblemAndPosition) {
  const BadText cases[] = {
      {"nodes=2", 7, "missing required key 'cores_per_node'"},
      {"cores_per_node=2", 16, "missing required key 'nodes'"},
      {"nodes=2 cores_per_node=2 sockets=1", 25, "unknown key 'sockets'"},
      {"nodes=2 nodes=3 cores_per_node=1", 8, "duplicate key 'nodes'"},
      {"nodes=0 cores_per_node=1", 6, "nodes must be at least 1"},
      {"nodes=x cores_per_node=1", 6, "nodes: expected a number"},
      {"nodes=2x cores_per_node=1", 7, "unexpected 'x'"},
      {"nodes= cores_per_node=1", 6, "missing value for 'nodes'"},
      {"nodes 2", 0, "expected key=value"},
      {"nodes=2 cores_per_node=2 cpus=0,1,0", 30, "lists 3 CPUs, expected 4"},
      {"nodes=2 cores_per_node=2 cpus=0,1,,0", 34, "cpus: empty element"},
      {"nodes=1 cores_per_node=1 cpus=3-1", 30, "reversed range"},
      {"nodes=1 cores_per_node=1 l2=big", 28, "l2: expected a size"},
      {"nodes=64 cores_per_node=32", 6, "more than the maximum"},
  };
  expect_parse_errors(cases);
}

TEST(TopologyNodeLines, SimulatesTwoNodesOfTwoCoresOnTwoRealCpus) {
  auto topo = Topology::parse(
      "# simulated 2 nodes x 2 cores\n"
      "\n"
      "node 0: 0-1\n"
      "node 1: 2-3 on 0-1   # node 1 shares the real CPUs of node 0\n");
  ASSERT_TRUE(topo) << topo.error().to_string();
  EXPECT_EQ(topo->source(), TopologySource::kText);
  EXPECT_EQ(topo->cpu_count(), 4u);
  ASSERT_EQ(topo->node_count(), 2u);
  EXPECT_EQ(topo->cpus_of_node(0), (CpuSet{0, 1}));
  EXPECT_EQ(topo->cpus_of_node(1), (CpuSet{2, 3}));
  EXPECT_EQ(topo->cores().size(), 4u);
  EXPECT_EQ(topo->siblings_of(2), CpuSet{2});
  EXPECT_EQ(topo->cpu(3)->package, 1u);
  EXPECT_EQ(topo->os_cpu_of(0), 0u);
  EXPECT_EQ(topo->os_cpu_of(1), 1u);
  EXPECT_EQ(topo->os_cpu_of(2), 0u);
  EXPECT_EQ(topo->os_cpu_of(3), 1u);

  // The same machine in the key=value format describes the same topology.
  auto same = Topology::parse("nodes=2 cores_per_node=2 cpus=0,1,0,1");
  ASSERT_TRUE(same);
  EXPECT_EQ(topo->describe(), same->describe());
}

TEST(TopologyNodeLines, IdentityMappingGapsListsAndSemicolons) {
  // One line, as in a JSON string or ZAP_TOPOLOGY; node ids with a gap, written out of order.
  auto topo = Topology::parse("node 2: 8-11,16 ; node 0: 0-3,5;node 1: none");
  ASSERT_TRUE(topo) << topo.error().to_string();
  ASSERT_EQ(topo->node_count(), 3u);
  EXPECT_EQ(topo->nodes()[0].id, 0u);
  EXPECT_EQ(topo->cpus_of_node(0), (CpuSet{0, 1, 2, 3, 5}));
  EXPECT_TRUE(topo->cpus_of_node(1).empty());  // memory-only node
  EXPECT_EQ(topo->cpus_of_node(2), (CpuSet{8, 9, 10, 11, 16}));
  EXPECT_EQ(topo->os_cpu_of(16), 16u);  // no "on": identity
  EXPECT_EQ(topo->cores().size(), 10u);
}

TEST(TopologyNodeLines, SmtSiblingsPairByPositionAndCachesApply) {
  auto topo = Topology::parse(
      "node 0: 0-1 smt 4-5\n"
      "node 1: 2-3 smt 6-7 on 0-1,0-1\n"
      "cache line=128 l1d=32K l2=1M l3=16M\n");
  ASSERT_TRUE(topo) << topo.error().to_string();
  EXPECT_EQ(topo->cpu_count(), 8u);
  EXPECT_EQ(topo->cores().size(), 4u);
  EXPECT_EQ(topo->siblings_of(0), (CpuSet{0, 4}));
  EXPECT_EQ(topo->siblings_of(5), (CpuSet{1, 5}));
  EXPECT_EQ(topo->siblings_of(7), (CpuSet{3, 7}));
  EXPECT_EQ(topo->cpus_of_node(1), (CpuSet{2, 3, 6, 7}));
  // "on" maps node 1's logical CPUs in ascending order: 2->0, 3->1, 6->0, 7->1.
  EXPECT_EQ(topo->os_cpu_of(2), 0u);
  EXPECT_EQ(topo->os_cpu_of(3), 1u);
  EXPECT_EQ(topo->os_cpu_of(6), 0u);
  EXPECT_EQ(topo->os_cpu_of(7), 1u);
  EXPECT_EQ(topo->os_cpu_of(5), 5u);
  EXPECT_EQ(topo->cache_line_size(), 128u);
  EXPECT_EQ(topo->caches().l1d_size, 32u * 1024);
  EXPECT_EQ(topo->caches().l3_size, 16u << 20);

  auto three_threads = Topology::parse("node 0: 0-1 smt 2-3 smt 4-5");
  ASSERT_TRUE(three_threads) << three_threads.error().to_string();
  EXPECT_EQ(three_threads->siblings_of(3), (CpuSet{1, 3, 5}));
}

TEST(TopologyNodeLines, KeyValueFormatIsStillChosenForKeys) {
  // "nodes=" begins the key=value format, not the node-per-line one.
  auto topo = Topology::parse("# comment first\nnodes=1 cores_per_node=2");
  ASSERT_TRUE(topo) << topo.error().to_string();
  EXPECT_EQ(topo->cpu_count(), 2u);
}

TEST(TopologyNodeLines, ErrorsNameTheLineAndWhatWasExpected) {
  const BadText cases[] = {
      {"node 0: 0-1\nnode 1:", 19, "line 2: node 1: expected a CPU list (e.g. 0-3,8-11) or 'none'"},
      {"node 0 0-1", 7, "line 1: expected ':' after 'node 0'"},
      {"node x: 0-1", 5, "line 1: node: expected a number, found 'x' (the node id)"},
      {"node 0: 0-1\n\n# c\nnode 1: 2-", 27, "line 4: node 1: range without an end"},
      {"node 0: 3-1", 8, "line 1: node 0: reversed range 3-1"},
      {"node 0: 0-1,,2", 12, "line 1: node 0: empty element in CPU list"},
      {"node 0: 0-1 2-3", 12,
       "line 1: node 0: expected 'smt <cpu list>', 'on <cpu list>' or end "
       "of line, found '2-3'"},
      {"node 0: 0-1 smt 4", 12, "line 1: node 0: smt list names 1 CPUs, expected 2"},
      {"node 0: 0-1 smt", 15,
       "line 1: node 0: smt: expected a CPU list such as 0-3,8-11, found "
       "end of line"},
      {"node 0: 0-1 on 0", 15, "line 1: node 0: on list names 1 real CPUs, expected 2"},
      {"node 0: 0-1 on 0-1 on 0-1", 19, "line 1: node 0: 'on' given twice"},
      {"node 0: 0-1 on 0-1 smt 2-3", 19, "line 1: node 0: 'smt' must come before 'on'"},
      {"node 0: 0-1\nnode 0: 2-3", 12, "line 2: node 0 is already described on line 1"},
      {"node 0: 0-1\nnode 1: 1-2", 20, "line 2: node 1: CPU 1 is already in node 0 (line 1)"},
      {"node 0: 0-1 smt 1-2", 16, "line 1: node 0: CPU 1 is named twice in node 0"},
      {"node 0: none", 12, "no node has a CPU"},
      {"node 0: none 1", 13, "line 1: node 0: nothing may follow 'none'"},
      {"node 0: 0-1\nnodes=2", 12,
       "line 2: expected 'node <id>: <cpu list>' or 'cache ...', "
       "found 'nodes=2'"},
      {"node 0: 0\ncache l4=1M", 16,
       "line 2: cache: expected line=, l1d=, l2= or l3=, found "
       "'l4=1M'"},
      {"node 0: 0\ncache l2=big", 19, "line 2: cache: l2: expected a size"},
      {"node 0: 0\ncache line=0", 21, "line 2: cache: line: expected a size"},
      {"node 0: 0\ncache l2=1M\ncache l3=2M", 22, "line 3: cache: already given on line 2"},
      {"node 0: 0-99999", 10, "line 1: node 0: CPU number too large"},
  };
  expect_parse_errors(cases);
}

TEST(TopologyBuilder, BuildsIrregularTopologies) {
  TopologyBuilder builder;
  builder.add_core(0, CpuSet{0, 1}).add_core(2, CpuSet{4}).add_node(1).map_cpu(4, 1);
  auto topo = std::move(builder).build();
  ASSERT_TRUE(topo) << topo.error().message();
  EXPECT_EQ(topo->source(), TopologySource::kBuilder);
  ASSERT_EQ(topo->node_count(), 3u);
  EXPECT_EQ(topo->nodes()[2].id, 2u);
  ASSERT_NE(topo->node(1), nullptr);
  EXPECT_TRUE(topo->node(1)->cpus.empty());
  EXPECT_EQ(topo->node(3), nullptr);
  EXPECT_EQ(topo->os_cpu_of(4), 1u);
  EXPECT_EQ(topo->siblings_of(0), (CpuSet{0, 1}));
  EXPECT_FALSE(topo->describe().empty());
}

TEST(TopologyBuilder, RejectsInconsistentDescriptions) {
  TopologyBuilder empty;
  EXPECT_EQ(std::move(empty).build().error(), Errc::kInvalidTopology);

  TopologyBuilder overlapping;
  overlapping.add_core(0, CpuSet{0, 1}).add_core(1, CpuSet{1});
  EXPECT_EQ(std::move(overlapping).build().error(), Errc::kInvalidTopology);

  TopologyBuilder empty_core;
  empty_core.add_core(0, CpuSet{});
  EXPECT_EQ(std::move(empty_core).build().error(), Errc::kInvalidTopology);

  TopologyBuilder unknown_mapping;
  unknown_mapping.add_core(0, CpuSet{0}).map_cpu(5, 0);
  EXPECT_EQ(std::move(unknown_mapping).build().error(), Errc::kInvalidTopology);
}

TEST(Topology, RealSystemIsSane) {
  auto topo = Topology::from_sysfs();
  ASSERT_TRUE(topo) << topo.error().message();
  EXPECT_GE(topo->node_count(), 1u);
  EXPECT_EQ(topo->cpu_count(), static_cast<std::size_t>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GE(topo->cores().size(), 1u);
  EXPECT_GT(topo->cache_line_size(), 0u);
  std::size_t cpus_in_nodes = 0;
  for (const Node& node : topo->nodes()) cpus_in_nodes += node.cpus.count();
  EXPECT_EQ(cpus_in_nodes, topo->cpu_count());
  for (const CpuInfo& cpu : topo->cpus()) {
    EXPECT_EQ(cpu.os_cpu, cpu.id);
    EXPECT_TRUE(topo->siblings_of(cpu.id).contains(cpu.id));
  }
}

TEST(Topology, SystemHonoursOverridesAndKeepsOldReferencesValid) {
  const Topology& detected = Topology::system();
  EXPECT_GE(detected.cpu_count(), 1u);
  EXPECT_EQ(&Topology::system(), &detected);  // detected once

  auto simulated = Topology::parse("nodes=2 cores_per_node=2 cpus=0,1,0,1");
  ASSERT_TRUE(simulated);
  Topology::set_override(*std::move(simulated));
  EXPECT_EQ(Topology::system().node_count(), 2u);
  EXPECT_EQ(Topology::system().source(), TopologySource::kText);
  EXPECT_GE(detected.cpu_count(), 1u);  // the old reference still points at live data

  Topology::clear_override();
  EXPECT_EQ(&Topology::system(), &detected);
}

TEST(Topology, SingleNodeFallback) {
  const Topology topo = Topology::single_node(CpuSet{0, 1, 2});
  EXPECT_EQ(topo.source(), TopologySource::kFallback);
  EXPECT_EQ(topo.node_count(), 1u);
  EXPECT_EQ(topo.cores().size(), 3u);
}

}  // namespace
}  // namespace zap::zuma
