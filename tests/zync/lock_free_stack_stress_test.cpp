#include "zap/zync/lock_free_stack.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace zap::zync {
namespace {

struct Item : LockFreeStackNode {
  std::atomic<bool> held{false};  // set while a thread owns the node (popped, not yet pushed)
  std::atomic<std::uint32_t> pops{0};
};

// Four threads pop a node, check they are its only holder, and push it back: the same few nodes
// cycle through the stack at high rate, the pattern in which an untagged Treiber stack hits ABA.
// At the end every node must be in the stack exactly once.
TEST(LockFreeStack, NodesAreNeverLostOrHeldTwiceUnderFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kNodes = 8;
  constexpr int kOpsPerThread = 50'000;
  LockFreeStack<Item> stack;
  std::vector<Item> items(kNodes);
  for (auto& item : items) stack.push(&item);
  std::atomic<std::uint32_t> double_holds{0};
  std::atomic<std::uint32_t> total_pops{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Item* mine[2] = {nullptr, nullptr};
      std::uint32_t pops = 0;
      for (int op = 0; op < kOpsPerThread; ++op) {
        // Hold up to two nodes at a time, so that pop/pop/push sequences (A, B, A) happen.
        for (Item*& slot : mine) {
          if (slot != nullptr) continue;
          slot = stack.pop();
          if (slot == nullptr) continue;
          ++pops;
          slot->pops.fetch_add(1, std::memory_order_relaxed);
          if (slot->held.exchange(true, std::memory_order_relaxed)) {
            double_holds.fetch_add(1, std::memory_order_relaxed);
          }
        }
        Item*& giving = mine[op % 2];
        if (giving != nullptr) {
          giving->held.store(false, std::memory_order_relaxed);
          stack.push(giving);
          giving = nullptr;
        }
      }
      for (Item* item : mine) {
        if (item == nullptr) continue;
        item->held.store(false, std::memory_order_relaxed);
        stack.push(item);
      }
      total_pops.fetch_add(pops, std::memory_order_relaxed);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(double_holds.load(), 0u);
  EXPECT_GT(total_pops.load(), 0u);

  std::vector<int> in_stack(kNodes, 0);
  while (Item* item = stack.pop()) {
    const auto index = item - items.data();
    ASSERT_GE(index, 0);
    ASSERT_LT(index, kNodes);
    ++in_stack[static_cast<std::size_t>(index)];
  }
  std::uint32_t pops_by_node = 0;
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_EQ(in_stack[static_cast<std::size_t>(i)], 1) << "node " << i;
    pops_by_node += items[static_cast<std::size_t>(i)].pops.load();
  }
  EXPECT_EQ(pops_by_node, total_pops.load());
}

// Producers push disjoint sets of nodes while consumers pop: each node popped exactly once.
TEST(LockFreeStack, EveryPushedNodeIsPoppedExactlyOnce) {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 2;
  constexpr std::uint32_t kPerProducer = 100'000;
  LockFreeStack<Item> stack;
  std::vector<Item> items(kProducers * kPerProducer);
  std::atomic<std::uint32_t> popped{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint32_t i = 0; i < kPerProducer; ++i) {
        stack.push(&items[static_cast<std::size_t>(p) * kPerProducer + i]);
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      while (popped.load(std::memory_order_relaxed) < items.size()) {
        if (Item* item = stack.pop()) {
          item->pops.fetch_add(1, std::memory_order_relaxed);
          popped.fetch_add(1, std::memory_order_relaxed);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < items.size(); ++i) ASSERT_EQ(items[i].pops.load(), 1u) << i;
  EXPECT_EQ(stack.pop(), nullptr);
}

}  // namespace
}  // namespace zap::zync
