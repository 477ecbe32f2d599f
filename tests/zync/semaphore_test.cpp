#include "zap/zync/semaphore.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace zap::zync {
namespace {

using namespace std::chrono_literals;

TEST(Semaphore, TryAcquireTakesOnlyWhatIsThere) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.try_acquire());
  EXPECT_TRUE(sem.try_acquire());
  EXPECT_FALSE(sem.try_acquire());
  EXPECT_EQ(sem.available(), 0u);
}

TEST(Semaphore, ReleaseAddsUnits) {
  Semaphore sem;
  sem.release(3);
  EXPECT_EQ(sem.available(), 3u);
  sem.acquire();
  sem.acquire();
  sem.acquire();
  EXPECT_FALSE(sem.try_acquire());
}

TEST(Semaphore, TryAcquireForTimesOut) {
  Semaphore sem;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sem.try_acquire_for(5ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
  EXPECT_FALSE(sem.try_acquire_until(std::chrono::system_clock::now() + 1ms));
}

TEST(Semaphore, AcquireBlocksUntilRelease) {
  Semaphore sem;
  int payload = 0;  // written before release(), read after acquire()
  std::thread releaser([&] {
    payload = 5;
    sem.release();
  });
  sem.acquire();
  EXPECT_EQ(payload, 5);
  releaser.join();
}

TEST(Semaphore, ReleaseOfManyWakesManyWaiters) {
  Semaphore sem;
  std::thread a([&] { sem.acquire(); });
  std::thread b([&] { EXPECT_TRUE(sem.try_acquire_for(60s)); });
  sem.release(2);
  a.join();
  b.join();
  EXPECT_EQ(sem.available(), 0u);
}

}  // namespace
}  // namespace zap::zync
