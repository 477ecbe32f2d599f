#include "log_throttle.hpp"

#include <gtest/gtest.h>

namespace zap::app {
namespace {

constexpr std::int64_t kMs = 1'000'000;

TEST(LogThrottle, TheFirstIsLoggedThenOnePerIntervalWithTheCountLeftOut) {
  LogThrottle throttle(std::chrono::seconds(5));
  EXPECT_EQ(throttle.admit(1000 * kMs), 0u);
  // Every 50 ms for the next 5 s: 99 left out.
  std::int64_t now = 1000 * kMs;
  for (int i = 1; i < 100; ++i) EXPECT_FALSE(throttle.admit(now += 50 * kMs)) << i;
  EXPECT_EQ(throttle.admit(now += 50 * kMs), 99u);
  EXPECT_FALSE(throttle.admit(now += kMs));
  // Long quiet, then again: logged at once, with the one left out before.
  EXPECT_EQ(throttle.admit(now += 60'000 * kMs), 1u);
}

TEST(LogThrottle, TheLineTailSaysHowManyWereLeftOut) {
  EXPECT_EQ(LogThrottle::left_out(0), "");
  EXPECT_EQ(LogThrottle::left_out(99), " (and 99 more times since the last report)");
}

TEST(LogThrottle, AnEarlyClockStillAdmitsTheFirstCall) {
  LogThrottle throttle(std::chrono::seconds(5));
  EXPECT_EQ(throttle.admit(0), 0u);
  EXPECT_FALSE(throttle.admit(1));
}

}  // namespace
}  // namespace zap::app
