#include "zap/zync/lock_free_stack.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace zap::zync {
namespace {

struct Item : LockFreeStackNode {
  int value = 0;
};

TEST(LockFreeStack, EmptyStackPopsNothing) {
  LockFreeStack<Item> stack;
  EXPECT_TRUE(stack.empty_approx());
  EXPECT_EQ(stack.pop(), nullptr);
}

TEST(LockFreeStack, PopsInLifoOrder) {
  LockFreeStack<Item> stack;
  std::vector<Item> items(100);
  for (int i = 0; i < 100; ++i) {
    items[static_cast<std::size_t>(i)].value = i;
    stack.push(&items[static_cast<std::size_t>(i)]);
  }
  EXPECT_FALSE(stack.empty_approx());
  for (int i = 99; i >= 0; --i) {
    Item* item = stack.pop();
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->value, i);
  }
  EXPECT_EQ(stack.pop(), nullptr);
  EXPECT_TRUE(stack.empty_approx());
}

TEST(LockFreeStack, NodesCanBeReusedAndTheTagWrapsAround) {
  LockFreeStack<Item> stack;
  Item a;
  Item b;
  // 2^16 tag values, wrapped several times: the tag overflow must not corrupt the pointer bits.
  for (int i = 0; i < 200'000; ++i) {
    stack.push(&a);
    stack.push(&b);
    ASSERT_EQ(stack.pop(), &b);
    ASSERT_EQ(stack.pop(), &a);
  }
  EXPECT_EQ(stack.pop(), nullptr);
}

TEST(LockFreeStack, CopyingANodeDoesNotCopyItsLink) {
  LockFreeStack<Item> stack;
  Item a;
  Item b;
  stack.push(&a);
  stack.push(&b);  // b links to a
  Item copy = b;
  stack.push(&copy);
  EXPECT_EQ(stack.pop(), &copy);
  EXPECT_EQ(stack.pop(), &b);
  EXPECT_EQ(stack.pop(), &a);
  EXPECT_EQ(stack.pop(), nullptr);
}

}  // namespace
}  // namespace zap::zync
