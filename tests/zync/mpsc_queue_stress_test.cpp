#include "zap/zync/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "zap/zync/backoff.hpp"

namespace zap::zync {
namespace {

struct Item : MpscNode {
  std::uint32_t producer = 0;
  std::uint32_t sequence = 0;
};

// Each producer pushes its own nodes, numbered 0..n-1. The single consumer must receive every
// node exactly once and each producer's nodes in order.
void run_producers(std::uint32_t producers, std::uint32_t per_producer, bool use_try_pop) {
  MpscQueue<Item> queue;
  std::vector<std::vector<Item>> items(producers, std::vector<Item>(per_producer));
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint32_t i = 0; i < per_producer; ++i) {
        Item& item = items[p][i];
        item.producer = p;
        item.sequence = i;
        queue.push(&item);
      }
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint32_t errors = 0;
  Backoff backoff;
  for (std::uint32_t received = 0; received < producers * per_producer;) {
    Item* item = use_try_pop ? queue.try_pop() : queue.pop();
    if (item == nullptr) {
      backoff.snooze();
      continue;
    }
    backoff.reset();
    ++received;
    if (item->producer >= producers || item != &items[item->producer][item->sequence] ||
        item->sequence != next[item->producer]) {
      ++errors;
      continue;
    }
    ++next[item->producer];
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0u);
  for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
  EXPECT_EQ(queue.try_pop(), nullptr);
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, NeverLosesOrDuplicatesWithThreeProducers) { run_producers(3, 60'000, false); }

TEST(MpscQueue, TryPopNeverLosesOrDuplicatesWithThreeProducers) { run_producers(3, 60'000, true); }

}  // namespace
}  // namespace zap::zync
