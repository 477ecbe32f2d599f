// sleep_for / sleep_until / timeout / cancellation of timed waits.
#include "zap/zell/sleep.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "test_config.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/timeout.hpp"
#include "zap/zell/yield.hpp"

namespace zell = zap::zell;
using namespace std::chrono_literals;

namespace {
using Clock = std::chrono::steady_clock;

zell::Task<Clock::duration> timed_sleep(Clock::duration d) {
  const auto start = Clock::now();
  co_await zell::sleep_for(d);
  co_return Clock::now() - start;
}
}  // namespace

TEST(Sleep, SleepsAtLeastTheDuration) {
  zell::Runtime runtime(zell_test::config(2));
  EXPECT_GE(runtime.block_on(timed_sleep(5ms)), 5ms);
  EXPECT_GE(runtime.block_on(timed_sleep(0ms)), 0ms);
}

TEST(Sleep, ManyConcurrentSleepersAllWakeInDeadlineOrder) {
  zell::Runtime runtime(zell_test::config(1));
  auto body = []() -> zell::Task<bool> {
    std::vector<zell::JoinHandle<Clock::time_point>> handles;
    auto at = [](Clock::time_point deadline) -> zell::Task<Clock::time_point> {
      co_await zell::sleep_until(deadline);
      co_return Clock::now();
    };
    const auto base = Clock::now();
    for (int i = 20; i > 0; --i) handles.push_back(zell::spawn(at(base + i * 1ms)));
    bool ok = true;
    for (int i = 0; i < 20; ++i) {
      const auto woke = co_await handles[i];
      ok = ok && woke >= base + (20 - i) * 1ms;
    }
    co_return ok;
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

TEST(Sleep, CancelRemovesTheTimerBeforeTheFrameDies) {
  zell::Runtime runtime(zell_test::config(2));
  auto h = runtime.spawn(timed_sleep(1h));
  h.cancel();
  EXPECT_THROW(h.get(), zell::TaskCancelled);
  // The runtime keeps working (no dangling timer fires into a dead frame).
  EXPECT_GE(runtime.block_on(timed_sleep(2ms)), 2ms);
}

TEST(Sleep, CancelFromAnotherWorker) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<bool> {
    auto sleeper = zell::spawn_on_worker(1, timed_sleep(1h));
    co_await zell::sleep_for(1ms);
    sleeper.cancel();
    try {
      co_await sleeper;
    } catch (const zell::TaskCancelled&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(runtime.spawn_on_worker(0, body()).get());
}

TEST(Timeout, ReturnsTheValueWhenInTime) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<std::optional<int>> {
    co_return co_await zell::timeout(1s, []() -> zell::Task<int> { co_return 5; }());
  };
  EXPECT_EQ(runtime.block_on(body()), 5);
}

TEST(Timeout, CancelsASlowTask) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<bool> {
    bool finished_inner = false;
    auto slow = [](bool& flag) -> zell::Task<int> {
      co_await zell::sleep_for(1h);
      flag = true;
      co_return 1;
    };
    auto result = co_await zell::timeout(5ms, slow(finished_inner));
    co_return !result.has_value() && !finished_inner;
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

TEST(Timeout, CancelsABusyYieldingTask) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<bool> {
    auto busy = []() -> zell::Task<void> {
      for (;;) co_await zell::yield();
    };
    co_return !co_await zell::timeout(2ms, busy());
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

TEST(Timeout, RethrowsTheTasksException) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<void> {
    (void)co_await zell::timeout(1s, []() -> zell::Task<int> {
      throw std::logic_error("inner");
      co_return 0;
    }());
  };
  EXPECT_THROW(runtime.block_on(body()), std::logic_error);
}
