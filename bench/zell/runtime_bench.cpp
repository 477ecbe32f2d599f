// zell runtime micro-benchmarks, each beside its in-process peer where one exists:
//   SpawnJoin/zap vs SpawnJoin/asio_thread_pool: 100k empty tasks spawned and all joined
//   SpawnJoinHandles/zap: the same, each joined through its JoinHandle
//   PingPong/zap: a round trip between two pinned workers through channels
//   TimerArmCancel/zap: arm and disarm a timer on a worker
//   Skynet/zap, Fib/zap: fork-join (Go peers: go/, compared by run.sh)
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "common/ratio_reporter.hpp"
#include "workloads.hpp"
#include "zap/zell/detail/timer_entry.hpp"
#include "zap/zync/event.hpp"

#if defined(ZELL_BENCH_HAS_ASIO)
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#endif

namespace zell = zap::zell;
using namespace zell_bench;

namespace {

constexpr std::size_t kSpawnCount = 100000;

zell::Runtime& runtime() {
  static zell::Runtime rt([] {
    zell::RuntimeConfig config;
    config.io_backend = zell::IoBackend::kNone;
    return config;
  }());
  return rt;
}

// Detached tasks counted down by a WaitGroup, as the asio peer counts down an atomic.
void SpawnJoin_zap(benchmark::State& state) {
  for (auto _ : state) runtime().block_on(spawn_wait_group(kSpawnCount));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSpawnCount));
}
BENCHMARK(SpawnJoin_zap)->Name("SpawnJoin/zap")->Unit(benchmark::kMillisecond)->UseRealTime();

// Each task joined through its JoinHandle (no peer: asio has no per-task join).
void SpawnJoinHandles_zap(benchmark::State& state) {
  for (auto _ : state) runtime().block_on(spawn_join(kSpawnCount));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSpawnCount));
}
BENCHMARK(SpawnJoinHandles_zap)
    ->Name("SpawnJoinHandles/zap")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

#if defined(ZELL_BENCH_HAS_ASIO)
void SpawnJoin_asio(benchmark::State& state) {
  boost::asio::thread_pool pool(runtime().worker_count());
  for (auto _ : state) {
    std::atomic<std::size_t> left{kSpawnCount};
    zap::zync::Event done;
    for (std::size_t i = 0; i < kSpawnCount; ++i) {
      boost::asio::post(pool, [&] {
        if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done.set();
      });
    }
    done.wait();
  }
  pool.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSpawnCount));
}
BENCHMARK(SpawnJoin_asio)
    ->Name("SpawnJoin/asio_thread_pool")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#endif

void PingPong_zap(benchmark::State& state) {
  constexpr int kRounds = 10000;
  for (auto _ : state) {
    zell::Channel<int> a(1);
    zell::Channel<int> b(1);
    auto p = runtime().spawn_on_worker(0, pinger(a, b, kRounds));
    auto q = runtime().spawn_on_worker(1 % runtime().worker_count(), ponger(a, b, kRounds));
    p.get();
    q.get();
  }
  state.SetItemsProcessed(state.iterations() * kRounds);
}
BENCHMARK(PingPong_zap)->Name("PingPong/zap")->Unit(benchmark::kMillisecond)->UseRealTime();

zell::Task<void> arm_cancel(std::size_t n) {
  zell::detail::Worker* worker = zell::detail::current_worker();
  zell::detail::TimerEntry entry;
  const std::int64_t base = zell::detail::now_ns() + 1'000'000'000;
  for (std::size_t i = 0; i < n; ++i) {
    entry.deadline_ns = base + static_cast<std::int64_t>(i & 1023);
    zell::detail::timer_arm(worker, &entry);
    zell::detail::timer_disarm(worker, &entry);
  }
  co_return;
}

void TimerArmCancel_zap(benchmark::State& state) {
  constexpr std::size_t kOps = 1'000'000;
  for (auto _ : state) runtime().block_on(arm_cancel(kOps));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kOps));
}
BENCHMARK(TimerArmCancel_zap)
    ->Name("TimerArmCancel/zap")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void Skynet_zap(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(runtime().block_on(skynet(0, 1'000'000)));
}
BENCHMARK(Skynet_zap)->Name("Skynet/zap")->Unit(benchmark::kMillisecond)->UseRealTime();

void Fib_zap(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(runtime().block_on(fib(25)));
}
BENCHMARK(Fib_zap)->Name("Fib25/zap")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

ZAP_BENCH_MAIN();
