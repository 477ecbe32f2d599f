#include "zap/zync/mpmc_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace zap::zync {
namespace {

TEST(MpmcQueue, CapacityIsAPowerOfTwoOfAtLeastTwo) {
  EXPECT_EQ(MpmcQueue<int>(0).capacity(), 2u);
  EXPECT_EQ(MpmcQueue<int>(1).capacity(), 2u);
  EXPECT_EQ(MpmcQueue<int>(3).capacity(), 4u);
  EXPECT_EQ(MpmcQueue<int>(1024).capacity(), 1024u);
}

TEST(MpmcQueue, PopFromEmptyFails) {
  MpmcQueue<int> queue(4);
  int value = -1;
  EXPECT_FALSE(queue.try_pop(value));
  EXPECT_EQ(value, -1);
  EXPECT_FALSE(queue.try_pop().has_value());
  EXPECT_EQ(queue.size_approx(), 0u);
}

TEST(MpmcQueue, PushToFullFailsUntilAPop) {
  MpmcQueue<int> queue(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(queue.try_push(i));
  EXPECT_FALSE(queue.try_push(99));
  EXPECT_EQ(queue.size_approx(), 4u);
  EXPECT_EQ(queue.try_pop(), 0);
  EXPECT_TRUE(queue.try_push(4));
  EXPECT_FALSE(queue.try_push(5));
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(queue.try_pop(), i);
  EXPECT_FALSE(queue.try_pop().has_value());
}

TEST(MpmcQueue, KeepsFifoOrderAcrossWraparound) {
  MpmcQueue<int> queue(8);
  int next_push = 0;
  int next_pop = 0;
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 7 && queue.try_push(next_push); ++i) ++next_push;
    for (int i = 0; i < 4; ++i) {
      auto value = queue.try_pop();
      if (!value) break;
      EXPECT_EQ(*value, next_pop++);
    }
  }
  while (auto value = queue.try_pop()) EXPECT_EQ(*value, next_pop++);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_GT(next_push, 1000);
}

TEST(MpmcQueue, MovesOnlyTypesAndDestroysLeftovers) {
  auto counter = std::make_shared<int>(0);
  {
    MpmcQueue<std::shared_ptr<int>> queue(4);
    EXPECT_TRUE(queue.try_push(counter));
    EXPECT_TRUE(queue.try_emplace(counter));
    EXPECT_TRUE(queue.try_push(counter));
    std::shared_ptr<int> out;
    ASSERT_TRUE(queue.try_pop(out));
    EXPECT_EQ(counter.use_count(), 4);
  }
  EXPECT_EQ(counter.use_count(), 1);

  MpmcQueue<std::unique_ptr<std::string>> queue(2);
  EXPECT_TRUE(queue.try_push(std::make_unique<std::string>("hello")));
  auto out = queue.try_pop();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(**out, "hello");
}

}  // namespace
}  // namespace zap::zync
