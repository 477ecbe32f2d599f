#include "zap/zync/parker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace zap::zync {
namespace {

using namespace std::chrono_literals;

TEST(Parker, UnparkBeforeParkIsNotLost) {
  Parker parker;
  parker.unpark();
  parker.park();  // returns at once: the permit was there
}

TEST(Parker, PermitsDoNotAccumulate) {
  Parker parker;
  parker.unpark();
  parker.unpark();
  EXPECT_TRUE(parker.park_for(0ms));
  EXPECT_FALSE(parker.park_for(1ms));  // only one permit
}

TEST(Parker, ParkForTimesOutWithoutUnpark) {
  Parker parker;
  // A spurious wakeup may return early, but with false; only an unpark() returns true.
  EXPECT_FALSE(parker.park_for(5ms));
}

TEST(Parker, ParkUntilAcceptsAnyClock) {
  Parker parker;
  EXPECT_FALSE(parker.park_until(std::chrono::system_clock::now() + 1ms));
  parker.unpark();
  EXPECT_TRUE(parker.park_until(std::chrono::steady_clock::now() + 1ms));
}

TEST(Parker, UnparkWakesAParkedThreadAndPublishesWrites) {
  Parker parker;
  std::atomic<bool> flag{false};
  int payload = 0;  // written before unpark(), read after park()
  std::thread parked([&] {
    while (!flag.load(std::memory_order_relaxed)) parker.park();
    EXPECT_EQ(payload, 7);
  });
  payload = 7;
  flag.store(true, std::memory_order_relaxed);
  parker.unpark();
  parked.join();
}

}  // namespace
}  // namespace zap::zync
