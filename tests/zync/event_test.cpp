#include "zap/zync/event.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace zap::zync {
namespace {

using namespace std::chrono_literals;

TEST(Event, StartsUnsetUnlessAskedOtherwise) {
  Event unset;
  Event set(true);
  EXPECT_FALSE(unset.is_set());
  EXPECT_TRUE(set.is_set());
}

TEST(Event, StaysSetUntilReset) {
  Event event;
  event.set();
  EXPECT_TRUE(event.is_set());
  event.wait();  // returns at once
  EXPECT_TRUE(event.wait_for(0ms));
  event.reset();
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait_for(1ms));
}

TEST(Event, WaitForTimesOut) {
  Event event;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(event.wait_for(5ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
  EXPECT_FALSE(event.wait_until(std::chrono::system_clock::now() + 1ms));
}

TEST(Event, SetWakesEveryWaiterAndPublishesWrites) {
  constexpr int kWaiters = 4;
  Event event;
  int payload = 0;  // written before set(), read after wait()
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      event.wait();
      EXPECT_EQ(payload, 99);
    });
  }
  payload = 99;
  event.set();
  for (auto& w : waiters) w.join();
}

TEST(Event, TimedWaiterSeesTheSet) {
  Event event;
  std::thread setter([&] { event.set(); });
  EXPECT_TRUE(event.wait_for(60s));  // returns as soon as it is set
  setter.join();
}

}  // namespace
}  // namespace zap::zync
