#include <gtest/gtest.h>

#include <cstdint>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "zap/zync/mutex.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kIterations = 20'000;
#else
constexpr int kIterations = 100'000;
#endif

TEST(MutexStress, NonAtomicCounterCountsEveryIncrement) {
  for (int threads : {2, 4, 8}) {
    Mutex mutex;
    std::uint64_t counter = 0;  // guarded by mutex; a lost update shows as a smaller total
    std::latch start(threads);  // all threads begin together, so they overlap
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        start.arrive_and_wait();
        for (int i = 0; i < kIterations; ++i) {
          std::lock_guard guard(mutex);
          ++counter;
        }
      });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(counter, static_cast<std::uint64_t>(threads) * kIterations) << threads << " threads";
  }
}

TEST(MutexStress, TryLockAndLockTogetherKeepMutualExclusion) {
  constexpr int kThreads = 4;
  Mutex mutex;
  std::uint64_t counter = 0;  // guarded by mutex
  int inside = 0;             // guarded by mutex: never more than one
  int max_inside = 0;
  std::latch start(kThreads);  // all threads begin together, so they overlap
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations / 2; ++i) {
        if (t % 2 == 0) {
          mutex.lock();
        } else {
          while (!mutex.try_lock()) std::this_thread::yield();
        }
        ++inside;
        if (inside > max_inside) max_inside = inside;
        ++counter;
        --inside;
        mutex.unlock();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(counter, static_cast<std::uint64_t>(kThreads) * (kIterations / 2));
  EXPECT_EQ(max_inside, 1);
}

}  // namespace
}  // namespace zap::zync
