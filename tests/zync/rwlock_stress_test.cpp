#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "zap/zync/rwlock.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kIterations = 5'000;
#else
constexpr int kIterations = 30'000;
#endif

// A multi-field record that writers keep consistent (all fields equal); readers check it.
struct Record {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t c = 0;
  std::uint64_t d = 0;
};

TEST(RwLockStress, ReadersNeverSeeATornWriteAndNoWriteIsLost) {
  constexpr int kWriters = 2;
  constexpr int kReaders = 4;
  RwLock lock;
  Record record;  // guarded by lock
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> reads{0};
  std::latch start(kWriters + kReaders);  // all threads begin together, so they overlap
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        std::unique_lock guard(lock);
        ++record.a;
        ++record.b;
        ++record.c;
        ++record.d;
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        if (r % 2 == 0) {
          std::shared_lock guard(lock);
          if (record.a != record.b || record.b != record.c || record.c != record.d) ++torn;
        } else {
          if (!lock.try_lock_shared()) continue;
          if (record.a != record.b || record.b != record.c || record.c != record.d) ++torn;
          lock.unlock_shared();
        }
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(record.a, std::uint64_t{kWriters} * kIterations);
  EXPECT_EQ(record.d, std::uint64_t{kWriters} * kIterations);
  EXPECT_GT(reads.load(), 0u);
}

// Readers and writers counted inside: a writer is always alone.
TEST(RwLockStress, WriterIsAlwaysAlone) {
  constexpr int kThreads = 6;
  RwLock lock;
  std::atomic<int> readers_inside{0};
  std::atomic<int> writers_inside{0};
  std::atomic<std::uint64_t> violations{0};
  std::uint64_t writes = 0;    // guarded by lock (exclusive)
  std::latch start(kThreads);  // all threads begin together, so they overlap
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kIterations; ++i) {
        if ((i + t) % 8 == 0) {
          std::unique_lock guard(lock);
          if (writers_inside.fetch_add(1) != 0 || readers_inside.load() != 0) ++violations;
          ++writes;
          writers_inside.fetch_sub(1);
        } else {
          std::shared_lock guard(lock);
          readers_inside.fetch_add(1);
          if (writers_inside.load() != 0) ++violations;
          readers_inside.fetch_sub(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0u);
  std::uint64_t expected_writes = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kIterations; ++i) expected_writes += (i + t) % 8 == 0;
  }
  EXPECT_EQ(writes, expected_writes);
}

}  // namespace
}  // namespace zap::zync
