#include "zap/zync/mpmc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "zap/zync/backoff.hpp"

namespace zap::zync {
namespace {

// Producer p pushes the values p, p + P, p + 2P, ... Every value must be popped exactly once, and
// each consumer must see each producer's values in increasing order (per-producer FIFO).
void run_producers_consumers(int producers, int consumers, std::size_t capacity,
                             std::uint32_t count) {
  MpmcQueue<std::uint32_t> queue(capacity);
  std::vector<std::atomic<std::uint32_t>> seen(count);
  std::atomic<std::uint32_t> popped{0};
  std::atomic<std::uint32_t> order_violations{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Backoff backoff;
      for (std::uint32_t v = static_cast<std::uint32_t>(p); v < count;
           v += static_cast<std::uint32_t>(producers)) {
        while (!queue.try_push(v)) backoff.snooze();
        backoff.reset();
      }
    });
  }
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(static_cast<std::size_t>(producers), -1);
      Backoff backoff;
      while (popped.load(std::memory_order_relaxed) < count) {
        std::uint32_t v;
        if (!queue.try_pop(v)) {
          backoff.snooze();
          continue;
        }
        backoff.reset();
        popped.fetch_add(1, std::memory_order_relaxed);
        if (v >= count) {
          order_violations.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        seen[v].fetch_add(1, std::memory_order_relaxed);
        auto& previous = last[v % static_cast<std::uint32_t>(producers)];
        if (static_cast<std::int64_t>(v) <= previous) {
          order_violations.fetch_add(1, std::memory_order_relaxed);
        }
        previous = v;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order_violations.load(), 0u);
  for (std::uint32_t i = 0; i < count; ++i) ASSERT_EQ(seen[i].load(), 1u) << "value " << i;
  std::uint32_t extra;
  EXPECT_FALSE(queue.try_pop(extra));
}

TEST(MpmcQueue, NeverLosesOrDuplicatesWithOneProducerOneConsumer) {
  run_producers_consumers(1, 1, 256, 200'000);
}

TEST(MpmcQueue, NeverLosesOrDuplicatesWithTwoProducersTwoConsumers) {
  run_producers_consumers(2, 2, 256, 200'000);
}

TEST(MpmcQueue, NeverLosesOrDuplicatesWithFourProducersFourConsumersOnATinyQueue) {
  // More threads than cores and a queue that is nearly always full or empty: fewer items.
  run_producers_consumers(4, 4, 4, 30'000);
}

}  // namespace
}  // namespace zap::zync
