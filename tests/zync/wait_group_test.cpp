#include "zap/zync/wait_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace zap::zync {
namespace {

TEST(WaitGroup, WaitWithNothingAddedReturnsAtOnce) {
  WaitGroup wg;
  wg.wait();
  EXPECT_EQ(wg.count(), 0u);
}

TEST(WaitGroup, CountsAddAndDone) {
  WaitGroup wg;
  wg.add(3);
  EXPECT_EQ(wg.count(), 3u);
  wg.done();
  wg.done();
  EXPECT_EQ(wg.count(), 1u);
  wg.done();
  wg.wait();
  EXPECT_EQ(wg.count(), 0u);
}

TEST(WaitGroup, WaitReturnsAfterEveryDoneAndSeesTheirWork) {
  constexpr int kWorkers = 4;
  WaitGroup wg;
  int results[kWorkers] = {};  // each written by one worker, read after wait()
  std::vector<std::thread> workers;
  wg.add(kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&, i] {
      results[i] = i + 1;
      wg.done();
    });
  }
  wg.wait();
  for (int i = 0; i < kWorkers; ++i) EXPECT_EQ(results[i], i + 1);
  for (auto& w : workers) w.join();
}

TEST(WaitGroup, SeveralWaitersAllReturn) {
  WaitGroup wg;
  wg.add(1);
  std::atomic<int> returned{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      wg.wait();
      returned.fetch_add(1, std::memory_order_relaxed);
    });
  }
  wg.done();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(returned.load(), 3);
}

TEST(WaitGroup, CanBeReusedAfterWaitReturns) {
  WaitGroup wg;
  for (int round = 0; round < 3; ++round) {
    wg.add(2);
    std::thread a([&] { wg.done(); });
    std::thread b([&] { wg.done(); });
    wg.wait();
    EXPECT_EQ(wg.count(), 0u);
    a.join();
    b.join();
  }
}

}  // namespace
}  // namespace zap::zync
