// WaitGroup (awaitable).
#include "zap/zell/wait_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"

namespace zell = zap::zell;

namespace {
zell::Task<void> work(zell::WaitGroup& wg, std::atomic<int>& sum, int v) {
  sum.fetch_add(v);
  wg.done();
  co_return;
}
}  // namespace

TEST(WaitGroup, WaitsForEveryDetachedTask) {
  zell::Runtime runtime(zell_test::config(2));
  const int n = static_cast<int>(zell_test::scaled(100000));
  auto body = [](int count) -> zell::Task<int> {
    std::atomic<int> sum{0};
    zell::WaitGroup wg;
    wg.add(count);
    for (int i = 1; i <= count; ++i) zell::spawn(work(wg, sum, 1)).detach();
    co_await wg.wait();
    co_return sum.load();
  };
  EXPECT_EQ(runtime.block_on(body(n)), n);
}

TEST(WaitGroup, DoneFromPlainThreads) {
  zell::Runtime runtime(zell_test::config(2));
  zell::WaitGroup wg;
  wg.add(4);
  auto waiter = [](zell::WaitGroup& g) -> zell::Task<bool> {
    co_await g.wait();
    co_return g.count() == 0;
  };
  auto h = runtime.spawn(waiter(wg));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { wg.done(); });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(h.get());
}

TEST(WaitGroup, CancelledWaiterIsWithdrawn) {
  zell::Runtime runtime(zell_test::config(2));
  zell::WaitGroup wg;
  wg.add(1);
  auto waiter = [](zell::WaitGroup& g) -> zell::Task<void> { co_await g.wait(); };
  auto h = runtime.spawn(waiter(wg));
  auto nap = []() -> zell::Task<void> { co_await zell::sleep_for(std::chrono::milliseconds(1)); };
  runtime.block_on(nap());
  h.cancel();
  EXPECT_THROW(h.get(), zell::TaskCancelled);
  wg.done();  // nobody waits any more
}

TEST(WaitGroup, CancelRacingTheStartOfAWaitIsNeverLost) {
  zell::Runtime runtime(zell_test::config(2));
  std::deque<zell::WaitGroup> groups;  // never done: only cancellation ends the waits
  auto waiter = [](zell::WaitGroup& g) -> zell::Task<void> { co_await g.wait(); };
  for (int i = 0; i < 2000; ++i) {
    groups.emplace_back().add(1);
    auto h = runtime.spawn(waiter(groups.back()));
    h.cancel();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!h.is_finished() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(h.is_finished()) << "cancellation lost at round " << i;
    EXPECT_THROW(h.get(), zell::TaskCancelled);
  }
}
