// zimalloc vs glibc malloc, mimalloc, jemalloc: size-class churn, larson-like, xmalloc-like
// producer/consumer, cache-scratch (false sharing), and peak RSS of a fixed workload.
//
//   zimalloc_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/ratio_reporter.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace {

struct Api {
  const char* name;
  void* (*malloc)(std::size_t);
  void (*free)(void*);
};

std::vector<Api> load_apis() {
  std::vector<Api> apis;
  apis.push_back({"zap", [](std::size_t n) { return zap::zimalloc::malloc(n); },
                  [](void* p) { zap::zimalloc::free(p); }});
  // Under LD_PRELOAD=libjemalloc.so.2 (see run.sh) the C malloc is jemalloc: name it so.
  // (jemalloc cannot be dlopen'ed: it needs static TLS.)
  const char* libc_name = dlsym(RTLD_DEFAULT, "mallocx") != nullptr ? "jemalloc" : "glibc";
  apis.push_back(
      {libc_name, [](std::size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); }});
  if (void* mi = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL)) {
    auto m = reinterpret_cast<void* (*)(std::size_t)>(dlsym(mi, "mi_malloc"));
    auto f = reinterpret_cast<void (*)(void*)>(dlsym(mi, "mi_free"));
    if (m != nullptr && f != nullptr) apis.push_back({"mimalloc", m, f});
  } else {
    std::fprintf(stderr, "mimalloc not loaded: %s\n", dlerror());
  }
  return apis;
}

// ---- size-class churn: 1024 live slots per thread; free a random one, malloc 8..1016 B -------
void churn_loop(const Api& api, std::size_t ops, std::uint64_t seed) {
  std::vector<void*> slots(1024, nullptr);
  std::minstd_rand rng(static_cast<std::uint32_t>(seed));
  for (void*& s : slots) s = api.malloc(8 + rng() % 1009);
  for (std::size_t i = 0; i < ops; ++i) {
    void*& s = slots[rng() % 1024];
    api.free(s);
    s = api.malloc(8 + rng() % 1009);
    static_cast<char*>(s)[0] = 1;
  }
  for (void* s : slots) api.free(s);
}

void bm_churn(benchmark::State& state, Api api) {
  for (auto _ : state)
    churn_loop(api, 100000, static_cast<std::uint64_t>(state.thread_index()) + 1);
  state.SetItemsProcessed(state.iterations() * 100000);
}

// ---- larson-like: threads replace random blocks; every round the slot arrays of two threads
// are swapped, so a block is often freed by another thread than the one that made it. ----------
// One box per allocator: an array left in it holds that allocator's blocks (it stays there
// after the run, a small leak of a benchmark).
struct LarsonShared {
  std::atomic<std::vector<void*>*> box{nullptr};
};

void bm_larson(benchmark::State& state, Api api, LarsonShared* shared) {
  auto* mine = new std::vector<void*>(1000, nullptr);
  std::minstd_rand rng(static_cast<std::uint32_t>(state.thread_index() + 7));
  for (void*& s : *mine) s = api.malloc(16 + rng() % 1000);
  for (auto _ : state) {
    for (int i = 0; i < 10000; ++i) {
      void*& s = (*mine)[rng() % mine->size()];
      api.free(s);
      s = api.malloc(16 + rng() % 1000);
    }
    // Swap arrays with whoever left one in the box (acq_rel: the blocks' contents travel too).
    std::vector<void*>* other = shared->box.exchange(mine, std::memory_order_acq_rel);
    mine = other != nullptr ? other : new std::vector<void*>(1000, nullptr);
    for (void*& s : *mine) {
      if (s == nullptr) s = api.malloc(16 + rng() % 1000);
    }
  }
  state.SetItemsProcessed(state.iterations() * 10000);
  for (void* s : *mine) api.free(s);
  delete mine;
}

// ---- xmalloc-like: a producer mallocs 64 B objects in batches of 4096, a consumer frees them;
// at most 100 batches in flight. ---------------------------------------------------------------
constexpr std::size_t kBatch = 4096;
constexpr std::size_t kInFlight = 100;

void producer_consumer(const Api& api, std::size_t batches) {
  std::vector<void**> ring(kInFlight + 1, nullptr);
  std::atomic<std::size_t> head{0};  // consumer position
  std::atomic<std::size_t> tail{0};  // producer position
  std::thread consumer([&] {
    for (std::size_t b = 0; b < batches; ++b) {
      // acquire: pairs with the producer's release store of tail (the batch is filled).
      while (tail.load(std::memory_order_acquire) == b) std::this_thread::yield();
      void** batch = ring[b % ring.size()];
      for (std::size_t i = 0; i < kBatch; ++i) api.free(batch[i]);
      std::free(batch);
      head.store(b + 1, std::memory_order_release);  // release: the slot may be reused
    }
  });
  for (std::size_t b = 0; b < batches; ++b) {
    while (b - head.load(std::memory_order_acquire) >= kInFlight) std::this_thread::yield();
    auto** batch = static_cast<void**>(std::malloc(kBatch * sizeof(void*)));
    for (std::size_t i = 0; i < kBatch; ++i) {
      batch[i] = api.malloc(64);
      static_cast<char*>(batch[i])[0] = 1;
    }
    ring[b % ring.size()] = batch;
    tail.store(b + 1, std::memory_order_release);
  }
  consumer.join();
}

void bm_xmalloc(benchmark::State& state, Api api) {
  for (auto _ : state) producer_consumer(api, 200);
  state.SetItemsProcessed(state.iterations() * 200 * static_cast<std::int64_t>(kBatch));
}

// ---- cache-scratch: the main thread makes one small object per thread and hands them out; each
// thread frees it, then allocates 100 small objects of its own and writes them over and over.
// While all threads hold their objects, counts the 64-byte lines holding objects of two threads
// (false sharing caused by the allocator; must be 0). ------------------------------------------
void bm_cache_scratch(benchmark::State& state, Api api) {
  constexpr int kThreads = 2;
  constexpr int kObjects = 100;
  std::int64_t shared_lines = 0;
  for (auto _ : state) {
    std::vector<void*> handed(kThreads);
    for (auto& p : handed) p = api.malloc(8);
    std::vector<std::uintptr_t> lines[kThreads];
    std::atomic<int> holding{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        api.free(handed[static_cast<std::size_t>(t)]);
        std::vector<volatile char*> objects;
        for (int i = 0; i < kObjects; ++i)
          objects.push_back(static_cast<volatile char*>(api.malloc(8)));
        for (int round = 0; round < 200; ++round) {
          for (volatile char* p : objects) p[round % 8] = static_cast<char>(p[round % 8] + 1);
        }
        for (volatile char* p : objects)
          lines[t].push_back(reinterpret_cast<std::uintptr_t>(p) / 64);
        // seq_cst: a plain rendezvous; every thread holds its objects until all have counted.
        holding.fetch_add(1);
        while (holding.load() < kThreads) std::this_thread::yield();
        for (volatile char* p : objects) api.free(const_cast<char*>(p));
      });
    }
    for (auto& th : threads) th.join();
    for (std::uintptr_t line : lines[0]) {
      for (std::uintptr_t other : lines[1]) shared_lines += line == other;
    }
  }
  state.counters["shared_lines"] = static_cast<double>(shared_lines);
}

// ---- peak RSS of a fixed workload (churn on 2 threads, then producer/consumer), in a child ----
void bm_peak_rss(benchmark::State& state, Api api) {
  long max_rss_kib = 0;
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) {
      std::thread other([&] { churn_loop(api, 2000000, 2); });
      churn_loop(api, 2000000, 1);
      other.join();
      producer_consumer(api, 2000);
      _exit(0);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    max_rss_kib = usage.ru_maxrss;
  }
  state.counters["peak_rss_kib"] = static_cast<double>(max_rss_kib);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (const Api& api : load_apis()) {
    const std::string impl = api.name;
    benchmark::RegisterBenchmark(("Churn/" + impl).c_str(), bm_churn, api)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("Larson/" + impl).c_str(), bm_larson, api, new LarsonShared)
        ->Threads(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("Xmalloc/" + impl).c_str(), bm_xmalloc, api)->UseRealTime();
    benchmark::RegisterBenchmark(("CacheScratch/" + impl).c_str(), bm_cache_scratch, api)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("PeakRss/" + impl).c_str(), bm_peak_rss, api)
        ->Iterations(1)
        ->UseRealTime();
  }
  zap::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
