// timeout(): what is left behind when the caller of timeout() is itself cancelled.
#include "zap/zell/timeout.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>
#include <thread>

#include "test_config.hpp"
#include "zap/zell/frame_allocator.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"

namespace zell = zap::zell;

namespace {}  // namespace

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
