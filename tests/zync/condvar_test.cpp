#include "zap/zync/condvar.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "zap/zync/mutex.hpp"

namespace zap::zync {
namespace {

using namespace std::chrono_literals;

TEST(Condvar, NotifyWithoutWaitersIsHarmless) {
  Condvar cv;
  cv.notify_one();
  cv.notify_all();
}

TEST(Condvar, WaitWithPredicateSeesTheChange) {
  Mutex mutex;
  Condvar cv;
  bool ready = false;  // guarded by mutex
  int value = 0;       // guarded by mutex
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return ready; });
    EXPECT_TRUE(lock.owns_lock());
    EXPECT_EQ(value, 42);
  });
  {
    std::lock_guard guard(mutex);
    value = 42;
    ready = true;
  }
  cv.notify_one();
  waiter.join();
}

TEST(Condvar, NotifyAllWakesEveryWaiter) {
  constexpr int kWaiters = 4;
  Mutex mutex;
  Condvar cv;
  bool go = false;  // guarded by mutex
  int woken = 0;    // guarded by mutex
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return go; });
      ++woken;
    });
  }
  {
    std::lock_guard guard(mutex);
    go = true;
  }
  cv.notify_all();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(woken, kWaiters);
}

TEST(Condvar, WaitForTimesOutWithoutNotify) {
  Mutex mutex;
  Condvar cv;
  std::unique_lock lock(mutex);
  const auto start = std::chrono::steady_clock::now();
  // Spurious wakeups return no_timeout; loop until the time has passed.
  while (cv.wait_for(lock, 5ms) == std::cv_status::no_timeout &&
         std::chrono::steady_clock::now() - start < 5ms) {
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
  EXPECT_TRUE(lock.owns_lock());
}

TEST(Condvar, WaitForWithPredicateReturnsFalseOnTimeout) {
  Mutex mutex;
  Condvar cv;
  std::unique_lock lock(mutex);
  EXPECT_FALSE(cv.wait_for(lock, 5ms, [] { return false; }));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_TRUE(cv.wait_for(lock, 5ms, [] { return true; }));
}

TEST(Condvar, WaitUntilWorksWithSystemClock) {
  Mutex mutex;
  Condvar cv;
  std::unique_lock lock(mutex);
  const auto deadline = std::chrono::system_clock::now() + 5ms;
  EXPECT_FALSE(cv.wait_until(lock, deadline, [] { return false; }));
  EXPECT_GE(std::chrono::system_clock::now(), deadline);
}

TEST(Condvar, WaitForWithPredicateReturnsTrueWhenNotified) {
  Mutex mutex;
  Condvar cv;
  bool ready = false;  // guarded by mutex
  std::thread notifier([&] {
    std::lock_guard guard(mutex);
    ready = true;
    cv.notify_one();  // notifying under the lock is allowed too
  });
  std::unique_lock lock(mutex);
  // A generous timeout: the test never waits for it unless the notify is lost.
  EXPECT_TRUE(cv.wait_for(lock, 60s, [&] { return ready; }));
  lock.unlock();
  notifier.join();
}

TEST(Condvar, HugeTimeoutMeansForever) {
  Mutex mutex;
  Condvar cv;
  bool ready = false;  // guarded by mutex
  std::thread notifier([&] {
    {
      std::lock_guard guard(mutex);
      ready = true;
    }
    cv.notify_all();
  });
  std::unique_lock lock(mutex);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::hours::max(), [&] { return ready; }));
  lock.unlock();
  notifier.join();
}

}  // namespace
}  // namespace zap::zync
