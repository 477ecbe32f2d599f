// SpscRing vs boost::lockfree::spsc_queue: one producer thread, one consumer thread.
//
// Same element type (std::uint64_t), same capacity, same operations (try-push / try-pop, spinning
// on full / empty with the same wait policy). Threads(2): thread 0 pushes kBatch items per
// iteration, thread 1 pops kBatch; both run the same number of iterations, so every item pushed is
// popped. items_per_second counts items moved through the queue. SpscOneThread runs both sides on
// one thread (fill, then drain): the cost of the operations without cross-core traffic.
// SpscBatch is Spsc with the batch operations of both queues (SpscRing::try_push_many /
// try_pop_many, spsc_queue::push(const T*, n) / pop(T*, n)), kChunk items per call at most.
//
// Threads are pinned round-robin to the CPUs the process may use (see common/cpu_pinning.hpp),
// identically for both implementations: on a small shared machine, where the scheduler puts the
// threads otherwise decides the result (same-core hand-offs are cheap, cross-core ones are what a
// queue is for).
#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "common/cpu_pinning.hpp"
#include "common/ratio_reporter.hpp"
#include "common/spin_until.hpp"
#include "zap/zync/spsc_ring.hpp"

namespace {

constexpr std::size_t kCapacity = 1024;
constexpr std::uint64_t kBatch = 1024;
constexpr std::size_t kChunk = 64;

struct ZapRing {
  zap::zync::SpscRing<std::uint64_t> ring{kCapacity};
  bool push(std::uint64_t v) { return ring.try_push(v); }
  bool pop(std::uint64_t& v) { return ring.try_pop(v); }
  std::size_t push_many(const std::uint64_t* v, std::size_t n) {
    return ring.try_push_many({v, n});
  }
  std::size_t pop_many(std::uint64_t* v, std::size_t n) { return ring.try_pop_many({v, n}); }
};

struct BoostRing {
  boost::lockfree::spsc_queue<std::uint64_t> queue{kCapacity};
  bool push(std::uint64_t v) { return queue.push(v); }
  bool pop(std::uint64_t& v) { return queue.pop(v); }
  std::size_t push_many(const std::uint64_t* v, std::size_t n) { return queue.push(v, n); }
  std::size_t pop_many(std::uint64_t* v, std::size_t n) { return queue.pop(v, n); }
};

template <typename Queue>
void producer_consumer(benchmark::State& state) {
  static std::unique_ptr<Queue> queue;
  // Thread 0 sets up before the loop; Google Benchmark's start barrier orders it before thread 1.
  if (state.thread_index() == 0) queue = std::make_unique<Queue>();
  const cpu_set_t previous = zap::bench::pin_to_cpu_slot(state.thread_index());
  std::uint64_t sum = 0;
  for (auto _ : state) {
    if (state.thread_index() == 0) {
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
  if (state.thread_index() == 0) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
    queue.reset();  // after the stop barrier: thread 1 is done with it
  }
}

// As producer_consumer(), but moving up to kChunk items per call with the batch operations.
template <typename Queue>
void producer_consumer_batch(benchmark::State& state) {
  static std::unique_ptr<Queue> queue;
  if (state.thread_index() == 0) queue = std::make_unique<Queue>();
  const cpu_set_t previous = zap::bench::pin_to_cpu_slot(state.thread_index());
  std::uint64_t buffer[kBatch];
  for (std::uint64_t i = 0; i < kBatch; ++i) buffer[i] = i;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    for (std::size_t done = 0; done < kBatch;) {
      const std::size_t want = std::min<std::size_t>(kChunk, kBatch - done);
      std::size_t moved = 0;
      if (state.thread_index() == 0) {
        zap::bench::spin_until(
            [&] { return (moved = queue->push_many(buffer + done, want)) != 0; });
      } else {
        zap::bench::spin_until([&] { return (moved = queue->pop_many(buffer + done, want)) != 0; });
        for (std::size_t i = 0; i < moved; ++i) sum += buffer[done + i];
      }
      done += moved;
    }
  }
  benchmark::DoNotOptimize(sum);
  zap::bench::restore_affinity(previous);
  if (state.thread_index() == 0) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
    queue.reset();  // after the stop barrier: thread 1 is done with it
  }
}

// Both sides on one thread: fill the ring, then drain it. No cross-core traffic and no scheduler
// in the result: the cost of the operations themselves.
template <typename Queue>
void fill_then_drain(benchmark::State& state) {
  Queue queue;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kBatch; ++i) queue.push(i);
    for (std::uint64_t i = 0; i < kBatch; ++i) {
      std::uint64_t v = 0;
      queue.pop(v);
      sum += v;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void Spsc_zap(benchmark::State& state) { producer_consumer<ZapRing>(state); }
void Spsc_boost(benchmark::State& state) { producer_consumer<BoostRing>(state); }

void SpscBatch_zap(benchmark::State& state) { producer_consumer_batch<ZapRing>(state); }
void SpscBatch_boost(benchmark::State& state) { producer_consumer_batch<BoostRing>(state); }

void SpscOneThread_zap(benchmark::State& state) { fill_then_drain<ZapRing>(state); }
void SpscOneThread_boost(benchmark::State& state) { fill_then_drain<BoostRing>(state); }

}  // namespace

BENCHMARK(Spsc_zap)->Name("Spsc/zap")->Threads(2)->UseRealTime();
BENCHMARK(Spsc_boost)->Name("Spsc/boost_spsc")->Threads(2)->UseRealTime();

BENCHMARK(SpscBatch_zap)->Name("SpscBatch/zap")->Threads(2)->UseRealTime();
BENCHMARK(SpscBatch_boost)->Name("SpscBatch/boost_spsc")->Threads(2)->UseRealTime();

BENCHMARK(SpscOneThread_zap)->Name("SpscOneThread/zap");
BENCHMARK(SpscOneThread_boost)->Name("SpscOneThread/boost_spsc");

ZAP_BENCH_MAIN();
