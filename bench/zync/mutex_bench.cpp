// zync::Mutex vs std::mutex, and zync::RwLock vs std::shared_mutex.
//
//   MutexUncontended  lock+unlock by one thread, in a process that has a second (idle) thread, so
//                     glibc cannot take its single-threaded shortcut.
//   MutexContended    two threads incrementing one shared counter under the lock.
//   RwLockReadMostly  two threads, 1 write in 16 lock operations, a small read/write section.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "common/ratio_reporter.hpp"
#include "zap/zync/event.hpp"
#include "zap/zync/mutex.hpp"
#include "zap/zync/rwlock.hpp"

namespace {

// An idle thread for the whole run: the process is multi-threaded from the start.
class IdleThread {
 public:
  IdleThread() : thread_([this] { stop_.wait(); }) {}
  ~IdleThread() {
    stop_.set();
    thread_.join();
  }

 private:
  zap::zync::Event stop_;
  std::thread thread_;
};
const IdleThread idle_thread;

template <typename Lock>
void mutex_uncontended(benchmark::State& state) {
  static Lock lock;
  std::uint64_t counter = 0;
  for (auto _ : state) {
    lock.lock();
    benchmark::DoNotOptimize(++counter);
    lock.unlock();
  }
}

template <typename Lock>
struct Shared {
  Lock lock;
  std::uint64_t counter = 0;  // guarded by lock
};

template <typename Lock>
void mutex_contended(benchmark::State& state) {
  static Shared<Lock> shared;
  for (auto _ : state) {
    shared.lock.lock();
    ++shared.counter;
    shared.lock.unlock();
  }
}

template <typename Lock>
void rwlock_read_mostly(benchmark::State& state) {
  static Shared<Lock> shared;
  std::uint64_t i = 0;
  for (auto _ : state) {
    if (++i % 16 == 0) {
      std::unique_lock guard(shared.lock);
      ++shared.counter;
    } else {
      std::shared_lock guard(shared.lock);
      benchmark::DoNotOptimize(shared.counter);
    }
  }
}

BENCHMARK(mutex_uncontended<zap::zync::Mutex>)->Name("MutexUncontended/zap");
BENCHMARK(mutex_uncontended<std::mutex>)->Name("MutexUncontended/std_mutex");
BENCHMARK(mutex_contended<zap::zync::Mutex>)->Name("MutexContended/zap")->Threads(2)->UseRealTime();
BENCHMARK(mutex_contended<std::mutex>)->Name("MutexContended/std_mutex")->Threads(2)->UseRealTime();
BENCHMARK(rwlock_read_mostly<zap::zync::RwLock>)
    ->Name("RwLockReadMostly/zap")
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(rwlock_read_mostly<std::shared_mutex>)
    ->Name("RwLockReadMostly/std_shared_mutex")
    ->Threads(2)
    ->UseRealTime();

}  // namespace

ZAP_BENCH_MAIN();
