// Runtime: many tasks, cross-worker ping-pong, yield fairness, shard-per-core, shutdown.
#include "zap/zell/runtime.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/channel.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/yield.hpp"
#include "zap/zuma/this_thread.hpp"

namespace zell = zap::zell;
using zell_test::scaled;

namespace {

zell::Task<std::uint64_t> value_of(std::uint64_t i) { co_return i; }

zell::Task<std::uint64_t> spawn_and_join(std::size_t count) {
  constexpr std::size_t kBatch = 10000;
  std::uint64_t sum = 0;
  std::vector<zell::JoinHandle<std::uint64_t>> handles;
  handles.reserve(kBatch);
  for (std::size_t base = 0; base < count; base += kBatch) {
    const std::size_t end = base + kBatch < count ? base + kBatch : count;
    for (std::size_t i = base; i < end; ++i) handles.push_back(zell::spawn(value_of(i)));
    for (auto& h : handles) sum += co_await h;
    handles.clear();
  }
  co_return sum;
}

}  // namespace

TEST(Runtime, MillionTasksSpawnedAndJoinedWithCheckedSum) {
  zell::Runtime runtime(zell_test::config(2));
  const std::size_t n = scaled(1'000'000);
  EXPECT_EQ(runtime.block_on(spawn_and_join(n)), std::uint64_t{n} * (n - 1) / 2);
  std::uint64_t run = 0;
  for (const auto& c : runtime.counters()) run += c.tasks_run;
  EXPECT_GE(run, n);
}

TEST(Runtime, ManyTasksFromOutsideThreads) {
  zell::Runtime runtime(zell_test::config(2));
  const std::size_t n = scaled(20000);
  std::vector<zell::JoinHandle<std::uint64_t>> handles;
  for (std::size_t i = 0; i < n; ++i) handles.push_back(runtime.spawn(value_of(i)));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += h.get();
  EXPECT_EQ(sum, std::uint64_t{n} * (n - 1) / 2);
}

TEST(Runtime, CrossWorkerPingPongThroughChannels) {
  zell::Runtime runtime(zell_test::config(2));
  const int rounds = static_cast<int>(scaled(20000));
  zell::Channel<int> ping(1);
  zell::Channel<int> pong(1);
  auto pinger = [](zell::Channel<int>& out, zell::Channel<int>& in, int n) -> zell::Task<int> {
    int last = 0;
    for (int i = 0; i < n; ++i) {
      co_await out.send(i);
      last = *co_await in.recv();
    }
    co_return last;
  };
  auto ponger = [](zell::Channel<int>& in, zell::Channel<int>& out,
                   int n) -> zell::Task<std::size_t> {
    std::size_t elsewhere = 0;
    for (int i = 0; i < n; ++i) {
      const int v = *co_await in.recv();
      co_await out.send(v + 1);
      if (zell::current_worker_index() != 0u) ++elsewhere;
    }
    co_return elsewhere;
  };
  auto a = runtime.spawn_on_worker(0, pinger(ping, pong, rounds));
  auto b = runtime.spawn_on_worker(1, ponger(ping, pong, rounds));
  EXPECT_EQ(a.get(), rounds);
  EXPECT_EQ(b.get(), static_cast<std::size_t>(rounds));  // pinned: always on worker 1
}

TEST(Runtime, YieldLetsOtherLocalTasksRun) {
  zell::Runtime runtime(zell_test::config(1));
  auto body = []() -> zell::Task<bool> {
    std::atomic<bool> other_ran{false};
    auto other = [](std::atomic<bool>& flag) -> zell::Task<void> {
      flag.store(true);
      co_return;
    };
    auto h = zell::spawn(other(other_ran));
    for (int i = 0; i < 1000 && !other_ran.load(); ++i) co_await zell::yield();
    co_await h;
    co_return other_ran.load();
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

TEST(Runtime, ShardPerCoreTasksStayOnTheirWorker) {
  zell::Runtime runtime(zell_test::config(2));
  auto shards = runtime.spawn_per_worker([](std::size_t w) -> zell::Task<bool> {
    return [](std::size_t me) -> zell::Task<bool> {
      bool stayed = true;
      for (int i = 0; i < 200; ++i) {
        stayed = stayed && zell::current_worker_index() == me;
        co_await zell::yield();
        auto h = zell::spawn_local(
            []() -> zell::Task<std::size_t> { co_return *zell::current_worker_index(); }());
        stayed = stayed && co_await h == me;
        stayed = stayed && zell::current_worker_index() == me;
      }
      co_return stayed;
    }(w);
  });
  ASSERT_EQ(shards.size(), 2u);
  for (auto& s : shards) EXPECT_TRUE(s.get());
}

TEST(Runtime, ShutdownWithTasksStillRunningLeaksNothing) {
  auto runtime = std::make_unique<zell::Runtime>(zell_test::config(2));
  zell::Channel<int> never(1);
  std::vector<zell::JoinHandle<void>> handles;
  auto waiter = [](zell::Channel<int>& c) -> zell::Task<void> { (void)co_await c.recv(); };
  auto sleeper = []() -> zell::Task<void> { co_await zell::sleep_for(std::chrono::hours(1)); };
  auto spinner = []() -> zell::Task<void> {
    for (;;) co_await zell::yield();
  };
  for (int i = 0; i < 50; ++i) {
    handles.push_back(runtime->spawn(waiter(never)));
    handles.push_back(runtime->spawn(sleeper()));
  }
  handles.push_back(runtime->spawn(spinner()));
  runtime->shutdown();
  for (auto& h : handles) EXPECT_THROW(h.get(), zell::TaskCancelled);
  runtime.reset();
}

TEST(Runtime, DefaultCpusAreTheOnesTheProcessMayRunOn) {
  // As under `taskset -c N`: only CPU N allowed. With no `cpus` in the config the runtime must
  // run one worker, on N - not one per CPU of the machine, pinned onto CPUs it was kept off.
  const auto allowed = zap::zuma::this_thread::affinity();
  ASSERT_TRUE(allowed);
  unsigned last = 0;
  for (const unsigned cpu : *allowed) last = cpu;
  ASSERT_FALSE(zap::zuma::this_thread::set_affinity(zap::zuma::CpuSet{last}));
  struct RestoreAffinity {
    zap::zuma::CpuSet mask;
    ~RestoreAffinity() { (void)zap::zuma::this_thread::set_affinity(mask); }
  } restore{*allowed};
  zell::RuntimeConfig config = zell_test::config(0);  // 0: one worker per usable CPU
  zell::Runtime runtime(config);
  const auto counters = runtime.counters();
  ASSERT_EQ(counters.size(), 1u);
  EXPECT_EQ(counters[0].cpu, last);
  auto where = []() -> zell::Task<unsigned> {
    co_return zap::zuma::this_thread::current_cpu().value_or(~0u);
  };
  EXPECT_EQ(runtime.block_on(where()), last);
}

TEST(Runtime, WorkersSleepWhenIdle) {
  zell::Runtime runtime(zell_test::config(2));
  EXPECT_EQ(runtime.block_on(value_of(3)), 3u);
  // Out of work, every worker goes to sleep in its reactor (after a spin of microseconds).
  auto sleepers = [&] {
    std::size_t n = 0;
    for (const auto& c : runtime.counters()) n += c.parks > 0 ? 1 : 0;
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sleepers() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(sleepers(), 2u);
  // A later task still gets a worker.
  EXPECT_EQ(runtime.block_on(value_of(4)), 4u);
}
