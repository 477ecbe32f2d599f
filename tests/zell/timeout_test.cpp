// timeout(): what is left behind when the caller of timeout() is itself cancelled.
#include "zap/zell/timeout.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>

#include "test_config.hpp"
#include "zap/zell/frame_allocator.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"

namespace zell = zap::zell;

namespace {}  // namespace

// A deadline that has passed before the child first runs: the child is dropped unstarted, and
// timeout() must still return (false). It used to hang.
TEST(Timeout, ADeadlineThatPassesBeforeTheChildRunsStillReturns) {
  zell::Runtime runtime(zell_test::config(1));
  std::atomic<int> timed_out{0};
  auto caller = [](std::atomic<int>& count) -> zell::Task<void> {
    for (int i = 0; i < 20; ++i) {
      const bool finished = co_await zell::timeout(
          std::chrono::milliseconds(0),
          []() -> zell::Task<void> { co_await zell::sleep_for(std::chrono::hours(1)); }());
      if (!finished) count.fetch_add(1);
    }
  };
  auto h = runtime.spawn(caller(timed_out));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (timed_out.load() < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (timed_out.load() < 20) {
    ADD_FAILURE() << "timeout() still waiting after 10 s (" << timed_out.load() << " of 20)";
    std::fflush(stdout);
    std::_Exit(1);  // a hung runtime cannot be shut down
  }
  h.get();
}

TEST(Timeout, CancellingTheCallerAlsoEndsTheWatchdog) {
  static zell_test::LiveFrames frames;
  zell::set_frame_allocator(&frames);
  {
    zell::Runtime runtime(zell_test::config(2));
    std::atomic<bool> started{false};
    auto slow = [](std::atomic<bool>& flag) -> zell::Task<void> {
      flag = true;
      co_await zell::sleep_for(std::chrono::hours(1));
    };
    auto caller = [&]() -> zell::Task<bool> {
      co_return co_await zell::timeout(std::chrono::hours(1), slow(started));
    };
    auto h = runtime.spawn(caller());
    while (!started.load()) std::this_thread::yield();
    h.cancel();
    EXPECT_THROW(h.get(), zell::TaskCancelled);
    // Every frame and record goes, the watchdog's included, well before its deadline.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (frames.live.load() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_EQ(frames.live.load(), 0);
  }
  zell::set_frame_allocator(nullptr);
}
