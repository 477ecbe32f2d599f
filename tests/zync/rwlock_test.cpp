#include "zap/zync/rwlock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace zap::zync {
namespace {

TEST(RwLock, ManyReadersAtOnce) {
  RwLock lock;
  ASSERT_TRUE(lock.try_lock_shared());
  ASSERT_TRUE(lock.try_lock_shared());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock_shared();
  EXPECT_FALSE(lock.try_lock());
  lock.unlock_shared();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

TEST(RwLock, WriterExcludesEveryone) {
  RwLock lock;
  lock.lock();
  EXPECT_FALSE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock_shared());
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_shared());
  lock.unlock_shared();
}

TEST(RwLock, WorksWithStandardLockTypes) {
  RwLock lock;
  {
    std::shared_lock reader(lock);
    std::shared_lock another(lock);
    EXPECT_TRUE(reader.owns_lock() && another.owns_lock());
  }
  {
    std::unique_lock writer(lock);
    EXPECT_FALSE(lock.try_lock_shared());
  }
  { std::lock_guard guard(lock); }
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

TEST(RwLock, BlockedWriterGetsInWhenTheReaderLeaves) {
  RwLock lock;
  int value = 0;  // guarded by lock
  lock.lock_shared();
  std::thread writer([&] {
    std::unique_lock guard(lock);
    value = 1;
  });
  lock.unlock_shared();
  writer.join();
  std::shared_lock reader(lock);
  EXPECT_EQ(value, 1);
}

TEST(RwLock, WaitingWriterBlocksNewReaders) {
  RwLock lock;
  lock.lock_shared();  // a reader is in
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    lock.lock();  // waits for our reader; while it waits, new readers must stay out
    writer_done.store(true);
    lock.unlock();
  });
  // Wait (without sleeping on a guess) until the writer is queued: new readers are then refused.
  while (lock.try_lock_shared()) {
    lock.unlock_shared();
    std::this_thread::yield();
  }
  EXPECT_FALSE(writer_done.load());
  lock.unlock_shared();
  writer.join();
  EXPECT_TRUE(writer_done.load());
  EXPECT_TRUE(lock.try_lock_shared());
  lock.unlock_shared();
}

TEST(RwLock, WriterUnlockWakesSleepingReaders) {
  RwLock lock;
  lock.lock();
  std::atomic<int> readers_in{0};
  std::thread r1([&] {
    std::shared_lock g(lock);
    readers_in.fetch_add(1);
  });
  std::thread r2([&] {
    std::shared_lock g(lock);
    readers_in.fetch_add(1);
  });
  lock.unlock();
  r1.join();
  r2.join();
  EXPECT_EQ(readers_in.load(), 2);
}

}  // namespace
}  // namespace zap::zync
