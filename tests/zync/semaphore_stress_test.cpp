#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "zap/zync/semaphore.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kIterations = 5'000;
#else
constexpr int kIterations = 30'000;
#endif

// 6 threads share 2 units: never more than 2 inside, every acquire matched by a release.
TEST(SemaphoreStress, NeverExceedsItsCount) {
  constexpr int kThreads = 6;
  constexpr int kUnits = 2;
  Semaphore sem(kUnits);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<std::uint64_t> entries{0};
  std::latch start(kThreads);  // all threads begin together, so they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        if (t % 3 == 0) {
          while (!sem.try_acquire_for(std::chrono::milliseconds(1))) {
          }
        } else {
          sem.acquire();
        }
        const int now = inside.fetch_add(1, std::memory_order_relaxed) + 1;
        int seen = max_inside.load(std::memory_order_relaxed);
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        entries.fetch_add(1, std::memory_order_relaxed);
        inside.fetch_sub(1, std::memory_order_relaxed);
        sem.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), kUnits);
  EXPECT_EQ(entries.load(), std::uint64_t{kThreads} * kIterations);
  EXPECT_EQ(sem.available(), static_cast<std::uint32_t>(kUnits));
}

// Producers release, consumers acquire: every unit released is acquired exactly once.
TEST(SemaphoreStress, EveryReleasedUnitIsAcquiredOnce) {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  constexpr int kPerConsumer = kIterations;
  constexpr int kPerProducer = kPerConsumer * kConsumers / kProducers;
  Semaphore sem;
  std::latch start(kConsumers + kProducers);  // all threads begin together, so they overlap
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerConsumer; ++i) sem.acquire();
    });
  }
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      start.arrive_and_wait();
      // One producer releases one unit at a time, the other three at a time (release(n) hands out n
      // units at once).
      if (p == 0) {
        for (int i = 0; i < kPerProducer; ++i) sem.release();
      } else {
        static_assert(kPerProducer % 3 == 0);
        for (int i = 0; i < kPerProducer / 3; ++i) sem.release(3);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sem.available(), 0u);
}

// The acquirer destroys the semaphore as soon as acquire() returns, while release() may still be
// returning: release() must not touch the object after publishing the unit (ASan checks this).
TEST(SemaphoreStress, AcquirerMayDestroyItRightAway) {
  for (int i = 0; i < kIterations / 20; ++i) {
    auto* sem = new Semaphore(0);
    std::thread releaser([sem] { sem->release(); });
    sem->acquire();
    delete sem;
    releaser.join();
  }
}

}  // namespace
}  // namespace zap::zync
