#include "zap/zync/mutex.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <type_traits>

namespace zap::zync {
namespace {

TEST(Mutex, IsOneWord) { EXPECT_EQ(sizeof(Mutex), 4u); }

TEST(Mutex, IsNotCopyableOrMovable) {
  EXPECT_FALSE(std::is_copy_constructible_v<Mutex>);
  EXPECT_FALSE(std::is_move_constructible_v<Mutex>);
}

TEST(Mutex, TryLockFailsWhileHeldAndSucceedsAfterUnlock) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  EXPECT_FALSE(mutex.try_lock());
  mutex.unlock();
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

TEST(Mutex, WorksWithStandardLockTypes) {
  Mutex a;
  Mutex b;
  {
    std::lock_guard guard(a);
    EXPECT_FALSE(a.try_lock());
  }
  {
    std::unique_lock lock(a);
    EXPECT_TRUE(lock.owns_lock());
    lock.unlock();
    EXPECT_TRUE(a.try_lock());
    a.unlock();
  }
  {
    std::scoped_lock both(a, b);
    EXPECT_FALSE(a.try_lock());
    EXPECT_FALSE(b.try_lock());
  }
  EXPECT_TRUE(a.try_lock());
  EXPECT_TRUE(b.try_lock());
  a.unlock();
  b.unlock();
}

TEST(Mutex, TryLockFromAnotherThreadFailsWhileHeld) {
  Mutex mutex;
  mutex.lock();
  bool acquired = true;
  std::thread other([&] { acquired = mutex.try_lock(); });
  other.join();
  EXPECT_FALSE(acquired);
  mutex.unlock();
}

TEST(Mutex, BlockedLockerGetsTheLockAfterUnlock) {
  Mutex mutex;
  int value = 0;  // guarded by mutex
  mutex.lock();
  std::thread other([&] {
    std::lock_guard guard(mutex);
    value = 2 * value + 1;
  });
  value = 1;  // we still hold the lock: the other thread must see this
  mutex.unlock();
  other.join();
  EXPECT_EQ(value, 3);
}

}  // namespace
}  // namespace zap::zync
