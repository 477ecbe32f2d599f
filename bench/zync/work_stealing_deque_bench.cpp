// WorkStealingDeque owner operations vs std::mutex + std::deque (what a run queue is without a
// lock-free deque).
//
// Same element type (a pointer-sized integer), same op mix: per iteration the owner pushes kBatch
// items at the bottom, then pops them all back (LIFO), as a worker does with tasks it spawns. Both
// containers are warmed up to the batch size before timing, so neither allocates in steady state
// from growth (std::deque still frees and reallocates its blocks as it shrinks and grows: that is
// what it does). A second case interleaves push and pop one to one.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "common/ratio_reporter.hpp"
#include "zap/zync/work_stealing_deque.hpp"

namespace {

constexpr std::uintptr_t kBatch = 256;

struct ZapDeque {
  zap::zync::WorkStealingDeque<std::uintptr_t> deque{kBatch};
  void push(std::uintptr_t v) { deque.push(v); }
  std::optional<std::uintptr_t> pop() { return deque.pop(); }
};

struct MutexDeque {
  std::mutex mutex;
  std::deque<std::uintptr_t> deque;
  void push(std::uintptr_t v) {
    std::lock_guard lock(mutex);
    deque.push_back(v);
  }
  std::optional<std::uintptr_t> pop() {
    std::lock_guard lock(mutex);
    if (deque.empty()) return std::nullopt;
    const std::uintptr_t v = deque.back();
    deque.pop_back();
    return v;
  }
};

template <typename Deque>
void push_then_pop(benchmark::State& state) {
  Deque deque;
  for (std::uintptr_t i = 0; i < kBatch; ++i) deque.push(i);
  while (deque.pop()) {
  }
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    for (std::uintptr_t i = 0; i < kBatch; ++i) deque.push(i);
    for (std::uintptr_t i = 0; i < kBatch; ++i) sum += *deque.pop();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

template <typename Deque>
void push_pop_interleaved(benchmark::State& state) {
  Deque deque;
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    for (std::uintptr_t i = 0; i < kBatch; ++i) {
      deque.push(i);
      sum += *deque.pop();
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void PushThenPop_zap(benchmark::State& state) { push_then_pop<ZapDeque>(state); }
void PushThenPop_mutex(benchmark::State& state) { push_then_pop<MutexDeque>(state); }
void PushPopInterleaved_zap(benchmark::State& state) { push_pop_interleaved<ZapDeque>(state); }
void PushPopInterleaved_mutex(benchmark::State& state) { push_pop_interleaved<MutexDeque>(state); }

}  // namespace

BENCHMARK(PushThenPop_zap)->Name("DequeOwnerPushThenPop/zap");
BENCHMARK(PushThenPop_mutex)->Name("DequeOwnerPushThenPop/mutex_deque");
BENCHMARK(PushPopInterleaved_zap)->Name("DequeOwnerPushPopInterleaved/zap");
BENCHMARK(PushPopInterleaved_mutex)->Name("DequeOwnerPushPopInterleaved/mutex_deque");

ZAP_BENCH_MAIN();
