// The scheduler on a simulated 2-node x 2-core topology (mapped onto the machine's real CPUs):
// steals go to the same node first; a node's injected work runs on that node while its workers
// are free; counters add up.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/yield.hpp"
#include "zap/zuma/topology.hpp"
#include "zap/zync/event.hpp"

namespace zell = zap::zell;

namespace {

zell::RuntimeConfig two_by_two() {
  zell::RuntimeConfig config = zell_test::config(4);
  auto topology = zap::zuma::Topology::parse("nodes=2 cores_per_node=2 cpus=0,1,0,1");
  EXPECT_TRUE(topology.has_value());
  config.topology = *topology;
  return config;
}

unsigned my_node(const zell::Runtime& runtime) {
  return runtime.node_of_worker(*zell::current_worker_index());
}

void spin_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace

TEST(Scheduler, WorkersAreGroupedByNode) {
  zell::Runtime runtime(two_by_two());
  ASSERT_EQ(runtime.worker_count(), 4u);
  ASSERT_EQ(runtime.node_count(), 2u);
  EXPECT_EQ(runtime.node_of_worker(0), 0u);
  EXPECT_EQ(runtime.node_of_worker(1), 0u);
  EXPECT_EQ(runtime.node_of_worker(2), 1u);
  EXPECT_EQ(runtime.node_of_worker(3), 1u);
  for (const auto& c : runtime.counters()) EXPECT_EQ(c.node, c.worker / 2);
}

TEST(Scheduler, InjectedWorkRunsOnItsNodeWhenItsWorkersAreFree) {
  zell::Runtime runtime(two_by_two());
  auto where = [](zell::Runtime& rt) -> zell::Task<unsigned> { co_return my_node(rt); };
  // One at a time, so the target node always has a free worker. Another node's worker may take
  // injected work only after it waited 200us with every worker of its node busy: allow for a
  // rare such take on a heavily loaded (or sanitized) machine, where a wake-up can be that slow.
  std::array<int, 2> ran_on_target{};
  for (unsigned node = 0; node < 2; ++node) {
    for (int i = 0; i < 100; ++i) {
      if (runtime.spawn_on_node(node, where(runtime)).get() == node) ++ran_on_target[node];
    }
  }
  EXPECT_GE(ran_on_target[0], 98);
  EXPECT_GE(ran_on_target[1], 98);
  std::array<std::uint64_t, 2> on_node{};
  std::uint64_t foreign = 0;
  for (const auto& c : runtime.counters()) {
    on_node[c.node] += c.injected_run_on_node;
    foreign += c.injected_run_foreign;
  }
  EXPECT_EQ(on_node[0] + on_node[1] + foreign, 200u);
  EXPECT_GE(on_node[0], 98u);
  EXPECT_GE(on_node[1], 98u);
  EXPECT_LE(foreign, 4u);
}

TEST(Scheduler, IdleWorkersStealFromTheirOwnNodeFirst) {
  zell::Runtime runtime(two_by_two());
  constexpr int kChildren = 200;  // fits the bounded local queue: thieves must steal
  zap::zync::Event go;
  std::atomic<int> ready{0};
  std::atomic<int> remaining{2 * kChildren};
  zap::zync::Event all_done;
  // ran[origin node][node it ran on]
  std::array<std::array<std::atomic<int>, 2>, 2> ran{};
  // The origin node of the first child each worker ran (-1: none).
  std::array<std::atomic<int>, 4> first_origin{};
  for (auto& f : first_origin) f.store(-1);

  auto child = [](zell::Runtime& rt, unsigned origin, decltype(ran)& r,
                  decltype(first_origin)& first, std::atomic<int>& left,
                  zap::zync::Event& done) -> zell::Task<void> {
    spin_for(std::chrono::microseconds(20));
    r[origin][my_node(rt)].fetch_add(1);
    int none = -1;
    first[*zell::current_worker_index()].compare_exchange_strong(none, static_cast<int>(origin));
    if (left.fetch_sub(1) == 1) done.set();
    co_return;
  };
  // Workers 0 (node 0) and 3 (node 1) fill their deques, then block their threads until every
  // child ran: only thieves can run the children.
  // (Both producers start before either pushes: otherwise the idle worker of the other node
  // could steal the first producer's children into its own deque before its producer runs.)
  std::atomic<int> started{0};
  auto producer = [&](unsigned origin) -> zell::Task<void> {
    started.fetch_add(1);
    while (started.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kChildren; ++i) {
      zell::spawn(child(runtime, origin, ran, first_origin, remaining, all_done)).detach();
    }
    ready.fetch_add(1);
    all_done.wait();
    co_return;
  };
  // Workers 1 (node 0) and 2 (node 1) are held (their threads blocked) from before the first
  // child exists until both deques are full: nobody can steal early.
  std::atomic<int> holding{0};
  auto holder = [&]() -> zell::Task<void> {
    holding.fetch_add(1);
    go.wait();
    co_return;
  };
  auto h1 = runtime.spawn_on_worker(1, holder());
  auto h2 = runtime.spawn_on_worker(2, holder());
  while (holding.load() < 2) std::this_thread::yield();
  auto p0 = runtime.spawn_on_worker(0, producer(0));
  auto p3 = runtime.spawn_on_worker(3, producer(1));
  while (ready.load() < 2) std::this_thread::yield();
  go.set();
  h1.get();
  h2.get();
  p0.get();
  p3.get();

  EXPECT_EQ(ran[0][0] + ran[0][1] + ran[1][0] + ran[1][1], 2 * kChildren);
  // Each thief's first steal -- whose first task it runs at once -- was from its own node, while
  // the other node's deque was just as full. (Later steals may cross nodes once a node runs dry.)
  EXPECT_EQ(first_origin[1].load(), 0);
  EXPECT_EQ(first_origin[2].load(), 1);
  const auto counters = runtime.counters();
  EXPECT_GE(counters[1].steals_same_node, 1u);
  EXPECT_GE(counters[2].steals_same_node, 1u);
  // Every child was stolen or, past the bounded local queue, taken from an injection queue.
  std::uint64_t moved = 0;
  for (const auto& c : counters) {
    moved += c.tasks_stolen + c.injected_run_on_node + c.injected_run_foreign;
  }
  EXPECT_GE(moved, static_cast<std::uint64_t>(2 * kChildren));
}

TEST(Scheduler, PinnedTaskYieldingGoesBehindItsWorkersOtherTasks) {
  // One worker: a pinned task spins on yield() until a task queued on the same worker (spawned,
  // so in the local queue) sets the flag. yield() must let that task run next, not after the
  // fairness tick.
  zell::Runtime runtime(zell_test::config(1));
  auto spinner = []() -> zell::Task<int> {
    std::atomic<bool> flag{false};
    auto setter = zell::spawn([](std::atomic<bool>& f) -> zell::Task<void> {
      f.store(true);
      co_return;
    }(flag));
    int yields = 0;
    while (!flag.load()) {
      co_await zell::yield();
      ++yields;
    }
    co_await setter;
    co_return yields;
  };
  EXPECT_LE(runtime.spawn_on_worker(0, spinner()).get(), 2);
}
