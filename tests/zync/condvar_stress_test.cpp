#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "zap/zync/condvar.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kItemsPerProducer = 5'000;
#else
constexpr int kItemsPerProducer = 25'000;
#endif

// A bounded queue built on Mutex + two Condvars, the textbook way.
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(std::uint64_t item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(item);
    lock.unlock();
    not_empty_.notify_one();
  }

  // Returns false once the queue is closed and drained.
  bool pop(std::uint64_t& item) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return false;
    item = items_.front();
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return true;
  }

  void close() {
    {
      std::lock_guard guard(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }

 private:
  Mutex mutex_;
  Condvar not_full_;
  Condvar not_empty_;
  std::deque<std::uint64_t> items_;  // guarded by mutex_
  bool closed_ = false;              // guarded by mutex_
  const std::size_t capacity_;
};

TEST(CondvarStress, ProducersAndConsumersPassEveryItemExactlyOnce) {
  constexpr int kProducers = 3;
  constexpr int kConsumers = 3;
  constexpr std::uint64_t kTotal = std::uint64_t{kProducers} * kItemsPerProducer;
  BoundedQueue queue(16);
  std::vector<std::vector<std::uint32_t>> seen(kConsumers, std::vector<std::uint32_t>(kTotal, 0));
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::uint64_t item = 0;
      while (queue.pop(item)) ++seen[c][item];
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItemsPerProducer; ++i) {
        queue.push(std::uint64_t{static_cast<std::uint64_t>(p)} * kItemsPerProducer + i);
      }
    });
  }
  for (auto& t : producers) t.join();
  queue.close();
  for (auto& t : threads) t.join();
  std::uint64_t missing = 0;
  std::uint64_t duplicated = 0;
  for (std::uint64_t item = 0; item < kTotal; ++item) {
    std::uint32_t count = 0;
    for (const auto& s : seen) count += s[item];
    if (count == 0) ++missing;
    if (count > 1) ++duplicated;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(duplicated, 0u);
}

TEST(CondvarStress, PingPongNeverLosesAWakeup) {
#if defined(ZAP_SANITIZE)
  constexpr int kRounds = 5'000;
#else
  constexpr int kRounds = 20'000;
#endif
  Mutex mutex;
  Condvar cv;
  int turn = 0;  // guarded by mutex: even = ping's turn, odd = pong's
  auto player = [&](int parity) {
    for (int i = 0; i < kRounds; ++i) {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return turn % 2 == parity; });
      ++turn;
      lock.unlock();
      cv.notify_one();
    }
  };
  std::thread ping(player, 0);
  std::thread pong(player, 1);
  ping.join();
  pong.join();
  EXPECT_EQ(turn, 2 * kRounds);
}

}  // namespace
}  // namespace zap::zync
