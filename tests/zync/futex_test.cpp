#include "zap/zync/futex.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace zap::zync {
namespace {

using namespace std::chrono_literals;

TEST(Futex, WaitReturnsAtOnceWhenTheWordDiffers) {
  std::atomic<std::uint32_t> word{1};
  EXPECT_EQ(futex_wait(word, 0), FutexWaitResult::kValueChanged);
}

TEST(Futex, RelativeTimeoutExpires) {
  std::atomic<std::uint32_t> word{0};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(futex_wait(word, 0, 5ms), FutexWaitResult::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
}

TEST(Futex, NonPositiveTimeoutDoesNotSleep) {
  std::atomic<std::uint32_t> word{0};
  EXPECT_EQ(futex_wait(word, 0, 0ns), FutexWaitResult::kTimedOut);
  EXPECT_EQ(futex_wait(word, 0, -1s), FutexWaitResult::kTimedOut);
}

TEST(Futex, AbsoluteDeadlineExpires) {
  std::atomic<std::uint32_t> word{0};
  const auto deadline = std::chrono::steady_clock::now() + 5ms;
  EXPECT_EQ(futex_wait_until(word, 0, deadline), FutexWaitResult::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(Futex, WakeWithoutWaitersWakesNobody) {
  std::atomic<std::uint32_t> word{0};
  EXPECT_EQ(futex_wake(word, 1), 0);
  EXPECT_EQ(futex_wake_all(word), 0);
}

TEST(Futex, WakeReleasesASleeper) {
  std::atomic<std::uint32_t> word{0};
  std::thread waiter([&] {
    // The canonical loop: sleep while the word is still 0.
    while (word.load(std::memory_order_acquire) == 0) futex_wait(word, 0);
  });
  word.store(1, std::memory_order_release);
  futex_wake_all(word);
  waiter.join();
  EXPECT_EQ(word.load(), 1u);
}

TEST(Futex, DeadlineAfterSaturates) {
  const auto now = std::chrono::steady_clock::now();
  EXPECT_GT(deadline_after(std::chrono::hours::max()), now + std::chrono::hours(24 * 365));
  EXPECT_GT(deadline_after(std::chrono::nanoseconds::max()), now);
  const auto negative = deadline_after(-1s);  // clamped to "now", not a second ago
  EXPECT_GE(negative, now);
  EXPECT_LE(negative, std::chrono::steady_clock::now());
}

}  // namespace
}  // namespace zap::zync
