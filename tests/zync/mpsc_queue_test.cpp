#include "zap/zync/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace zap::zync {
namespace {

struct Item : MpscNode {
  int value = 0;
};

TEST(MpscQueue, EmptyQueuePopsNothing) {
  MpscQueue<Item> queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop(), nullptr);
  EXPECT_EQ(queue.pop(), nullptr);
  EXPECT_TRUE(queue.empty());
}

TEST(MpscQueue, SingleNodeRoundTrip) {
  MpscQueue<Item> queue;
  Item item;
  item.value = 7;
  queue.push(&item);
  EXPECT_FALSE(queue.empty());
  EXPECT_EQ(queue.try_pop(), &item);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop(), nullptr);
}

TEST(MpscQueue, PopsInFifoOrder) {
  MpscQueue<Item> queue;
  std::vector<Item> items(100);
  for (int i = 0; i < 100; ++i) {
    items[static_cast<std::size_t>(i)].value = i;
    queue.push(&items[static_cast<std::size_t>(i)]);
  }
  for (int i = 0; i < 100; ++i) {
    Item* item = queue.pop();
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->value, i);
  }
  EXPECT_EQ(queue.pop(), nullptr);
}

TEST(MpscQueue, NodesCanBeReusedAfterPop) {
  MpscQueue<Item> queue;
  Item a;
  Item b;
  a.value = 1;
  b.value = 2;
  // Interleavings that take the stub in and out of the chain repeatedly.
  for (int round = 0; round < 100; ++round) {
    queue.push(&a);
    EXPECT_EQ(queue.try_pop(), &a);
    queue.push(&a);
    queue.push(&b);
    EXPECT_EQ(queue.try_pop(), &a);
    queue.push(&a);
    EXPECT_EQ(queue.try_pop(), &b);
    EXPECT_EQ(queue.try_pop(), &a);
    EXPECT_EQ(queue.try_pop(), nullptr);
    EXPECT_TRUE(queue.empty());
  }
}

TEST(MpscQueue, CopyingANodeDoesNotCopyItsLink) {
  MpscQueue<Item> queue;
  Item a;
  Item b;
  queue.push(&a);
  queue.push(&b);
  Item copy = a;  // a is linked to b; the copy must start unlinked
  EXPECT_EQ(queue.try_pop(), &a);
  queue.push(&copy);
  EXPECT_EQ(queue.try_pop(), &b);
  EXPECT_EQ(queue.try_pop(), &copy);
  EXPECT_EQ(queue.try_pop(), nullptr);
}

}  // namespace
}  // namespace zap::zync
