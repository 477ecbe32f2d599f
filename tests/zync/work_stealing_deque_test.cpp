#include "zap/zync/work_stealing_deque.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace zap::zync {
namespace {

using Deque = WorkStealingDeque<std::uintptr_t>;

TEST(WorkStealingDeque, EmptyDequeHasNothingToPopOrSteal) {
  Deque deque;
  EXPECT_FALSE(deque.pop().has_value());
  EXPECT_TRUE(deque.steal().is_empty());
  Deque other;
  EXPECT_TRUE(deque.steal_batch(other, 8).is_empty());
  EXPECT_TRUE(deque.steal_batch_and_pop(other, 8).is_empty());
  EXPECT_EQ(deque.size_approx(), 0u);
}

TEST(WorkStealingDeque, OwnerPopsInLifoOrder) {
  Deque deque;
  for (std::uintptr_t i = 1; i <= 10; ++i) deque.push(i);
  EXPECT_EQ(deque.size_approx(), 10u);
  for (std::uintptr_t i = 10; i >= 1; --i) EXPECT_EQ(deque.pop(), i);
  EXPECT_FALSE(deque.pop().has_value());
  // An empty pop leaves the deque usable.
  deque.push(42);
  EXPECT_EQ(deque.pop(), 42u);
}

TEST(WorkStealingDeque, ThievesStealInFifoOrder) {
  Deque deque;
  for (std::uintptr_t i = 1; i <= 10; ++i) deque.push(i);
  for (std::uintptr_t i = 1; i <= 5; ++i) {
    const auto stolen = deque.steal();
    ASSERT_TRUE(stolen.is_success());
    EXPECT_EQ(stolen.value, i);
  }
  // Owner and thieves meet in the middle.
  EXPECT_EQ(deque.pop(), 10u);
  EXPECT_EQ(deque.steal().value, 6u);
  EXPECT_EQ(deque.pop(), 9u);
  EXPECT_EQ(deque.pop(), 8u);
  EXPECT_EQ(deque.steal().value, 7u);
  EXPECT_TRUE(deque.steal().is_empty());
  EXPECT_FALSE(deque.pop().has_value());
}

TEST(WorkStealingDeque, GrowsWhenFullAndKeepsEveryElement) {
  Deque deque(2);
  EXPECT_EQ(deque.capacity(), 2u);
  for (std::uintptr_t i = 0; i < 1000; ++i) deque.push(i);
  EXPECT_EQ(deque.capacity(), 1024u);
  // Steal some from the top, then pop the rest from the bottom.
  for (std::uintptr_t i = 0; i < 100; ++i) EXPECT_EQ(deque.steal().value, i);
  for (std::uintptr_t i = 999; i >= 100; --i) EXPECT_EQ(deque.pop(), i);
  EXPECT_FALSE(deque.pop().has_value());
}

TEST(WorkStealingDeque, GrowsAcrossWraparound) {
  Deque deque(4);
  // Move top and bottom far past the capacity before growing, so the copy starts mid-buffer.
  for (std::uintptr_t i = 0; i < 10; ++i) {
    deque.push(i);
    EXPECT_EQ(deque.steal().value, i);
  }
  for (std::uintptr_t i = 0; i < 20; ++i) deque.push(100 + i);
  EXPECT_GE(deque.capacity(), 32u);
  for (std::uintptr_t i = 0; i < 20; ++i) EXPECT_EQ(deque.steal().value, 100 + i);
}

TEST(WorkStealingDeque, StealBatchTakesHalfUpToTheLimit) {
  Deque victim;
  Deque thief;
  for (std::uintptr_t i = 0; i < 10; ++i) victim.push(i);
  auto moved = victim.steal_batch(thief, 100);
  ASSERT_TRUE(moved.is_success());
  EXPECT_EQ(moved.value, 5u);  // half of 10
  EXPECT_EQ(victim.size_approx(), 5u);
  EXPECT_EQ(thief.size_approx(), 5u);
  // The oldest elements moved, oldest first: the thief's bottom has the newest of them.
  for (std::uintptr_t i = 5; i-- > 0;) EXPECT_EQ(thief.pop(), i);

  moved = victim.steal_batch(thief, 2);  // limit below half
  ASSERT_TRUE(moved.is_success());
  EXPECT_EQ(moved.value, 2u);
  EXPECT_EQ(thief.steal().value, 5u);
  EXPECT_EQ(thief.steal().value, 6u);

  // One left: ceil(1 / 2) = 1.
  Deque single;
  single.push(77);
  moved = single.steal_batch(thief, 8);
  ASSERT_TRUE(moved.is_success());
  EXPECT_EQ(moved.value, 1u);
  EXPECT_EQ(thief.pop(), 77u);
  EXPECT_TRUE(single.steal_batch(thief, 0).is_empty());
}

TEST(WorkStealingDeque, StealBatchAndPopReturnsTheOldestAndMovesTheRest) {
  Deque victim;
  Deque thief(2);  // the thief's deque grows while receiving
  for (std::uintptr_t i = 0; i < 20; ++i) victim.push(i);
  const auto first = victim.steal_batch_and_pop(thief, 16);
  ASSERT_TRUE(first.is_success());
  EXPECT_EQ(first.value, 0u);
  EXPECT_EQ(thief.size_approx(), 9u);  // 10 stolen, one returned
  EXPECT_EQ(victim.size_approx(), 10u);
  for (std::uintptr_t i = 1; i <= 9; ++i) EXPECT_EQ(thief.steal().value, i);
}

// Thieves free slots; push() sees the deque as full only through its stale copy of top, re-reads
// top, and reuses the freed slots instead of growing.
TEST(WorkStealingDeque, PushReusesSlotsFreedByThievesWithoutGrowing) {
  Deque deque(4);
  for (std::uintptr_t i = 0; i < 4; ++i) deque.push(i);
  ASSERT_EQ(deque.steal().value, 0u);
  ASSERT_EQ(deque.steal().value, 1u);
  deque.push(4);
  deque.push(5);
  EXPECT_EQ(deque.capacity(), 4u);
  for (std::uintptr_t expected : {5u, 4u, 3u, 2u}) {
    auto value = deque.pop();
    ASSERT_TRUE(value.has_value());
    EXPECT_EQ(*value, expected);
  }
  EXPECT_FALSE(deque.pop().has_value());
}

// pop() answers "empty" from its copy of top when it can; pushes after that still come back.
TEST(WorkStealingDeque, PopAfterEmptyingByThievesAndOwnerStaysCorrect) {
  Deque deque(4);
  for (int round = 0; round < 100; ++round) {
    deque.push(1);
    deque.push(2);
    deque.push(3);
    EXPECT_EQ(deque.steal().value, 1u);
    EXPECT_EQ(deque.pop().value_or(0), 3u);
    EXPECT_EQ(deque.pop().value_or(0), 2u);  // the last element: decided by the CAS
    EXPECT_FALSE(deque.pop().has_value());
    EXPECT_FALSE(deque.pop().has_value());
    EXPECT_TRUE(deque.steal().is_empty());
  }
  EXPECT_EQ(deque.capacity(), 4u);
}

TEST(WorkStealingDeque, HoldsPointers) {
  int a = 1;
  int b = 2;
  WorkStealingDeque<int*> deque;
  deque.push(&a);
  deque.push(&b);
  EXPECT_EQ(deque.steal().value, &a);
  EXPECT_EQ(deque.pop(), &b);
}

}  // namespace
}  // namespace zap::zync
