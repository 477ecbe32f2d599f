// MpmcQueue vs boost::lockfree::queue at 1 producer / 1 consumer and 2 producers / 2 consumers.
//
// Same element type (std::uint64_t), same capacity (both bounded: boost's queue is given its node
// pool up front and pushes with bounded_push, so neither allocates while running), same operations
// and wait policy. Even thread indices produce kBatch items per iteration, odd ones consume kBatch;
// every thread runs the same number of iterations, so every item pushed is popped.
//
// Threads are pinned round-robin to the CPUs the process may use (see common/cpu_pinning.hpp),
// identically for both implementations: on a small shared machine, where the scheduler puts the
// threads otherwise decides the result (same-core hand-offs are cheap, cross-core ones are what a
// queue is for).
#include <boost/lockfree/queue.hpp>

#include <cstdint>
#include <memory>

#include "common/cpu_pinning.hpp"
#include "common/ratio_reporter.hpp"
#include "common/spin_until.hpp"
#include "zap/zync/mpmc_queue.hpp"

namespace {

constexpr std::size_t kCapacity = 1024;
constexpr std::uint64_t kBatch = 1024;

struct ZapQueue {
  zap::zync::MpmcQueue<std::uint64_t> queue{kCapacity};
  bool push(std::uint64_t v) { return queue.try_push(v); }
  bool pop(std::uint64_t& v) { return queue.try_pop(v); }
};

struct BoostQueue {
  boost::lockfree::queue<std::uint64_t> queue{kCapacity};
  bool push(std::uint64_t v) { return queue.bounded_push(v); }
  bool pop(std::uint64_t& v) { return queue.pop(v); }
};

template <typename Queue>
void producers_consumers(benchmark::State& state) {
  static std::unique_ptr<Queue> queue;
  // Thread 0 sets up before the loop; Google Benchmark's start barrier orders it before the others.
  if (state.thread_index() == 0) queue = std::make_unique<Queue>();
  const bool producer = state.thread_index() % 2 == 0;
  const cpu_set_t previous = zap::bench::pin_to_cpu_slot(state.thread_index());
  std::uint64_t sum = 0;
  for (auto _ : state) {
    if (producer) {
      for (std::uint64_t i = 0; i < kBatch; ++i)
        zap::bench::spin_until([&] { return queue->push(i); });
    } else {
      for (std::uint64_t i = 0; i < kBatch; ++i) {
        std::uint64_t v;
        zap::bench::spin_until([&] { return queue->pop(v); });
        sum += v;
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  zap::bench::restore_affinity(previous);
  if (producer) state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  if (state.thread_index() == 0) queue.reset();  // after the stop barrier
}

void Mpmc_zap(benchmark::State& state) { producers_consumers<ZapQueue>(state); }
void Mpmc_boost(benchmark::State& state) { producers_consumers<BoostQueue>(state); }

}  // namespace

// threads:2 is 1P1C, threads:4 is 2P2C.
BENCHMARK(Mpmc_zap)->Name("Mpmc/zap")->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(Mpmc_boost)->Name("Mpmc/boost_queue")->Threads(2)->Threads(4)->UseRealTime();

ZAP_BENCH_MAIN();
