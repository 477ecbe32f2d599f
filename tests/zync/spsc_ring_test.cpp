#include "zap/zync/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace zap::zync {
namespace {

TEST(SpscRing, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(0).capacity(), 1u);
  EXPECT_EQ(SpscRing<int>(1).capacity(), 1u);
  EXPECT_EQ(SpscRing<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscRing<int>(64).capacity(), 64u);
}

TEST(SpscRing, PopFromEmptyFails) {
  SpscRing<int> ring(4);
  int value = -1;
  EXPECT_FALSE(ring.try_pop(value));
  EXPECT_EQ(value, -1);
  EXPECT_FALSE(ring.try_pop().has_value());
  EXPECT_TRUE(ring.empty_approx());
}

TEST(SpscRing, PushToFullFailsUntilAPop) {
  SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_EQ(ring.size_approx(), 4u);
  int value = -1;
  ASSERT_TRUE(ring.try_pop(value));
  EXPECT_EQ(value, 0);
  EXPECT_TRUE(ring.try_push(4));
  EXPECT_FALSE(ring.try_push(5));
}

TEST(SpscRing, KeepsFifoOrderAcrossWraparound) {
  SpscRing<int> ring(8);
  int next_push = 0;
  int next_pop = 0;
  // Uneven push/pop batches walk the indices around the ring many times.
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 5 && ring.try_push(next_push); ++i) ++next_push;
    for (int i = 0; i < 3; ++i) {
      auto value = ring.try_pop();
      if (!value) break;
      EXPECT_EQ(*value, next_pop++);
    }
  }
  while (auto value = ring.try_pop()) EXPECT_EQ(*value, next_pop++);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_GT(next_push, 1000);
}

TEST(SpscRing, PushManyTakesThePrefixThatFits) {
  SpscRing<int> ring(8);
  const std::array<int, 5> first{0, 1, 2, 3, 4};
  const std::array<int, 5> second{5, 6, 7, 8, 9};
  EXPECT_EQ(ring.try_push_many(first), 5u);
  EXPECT_EQ(ring.try_push_many(second), 3u);  // 5, 6, 7 fit
  EXPECT_EQ(ring.try_push_many(second), 0u);
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_EQ(ring.size_approx(), 8u);
  std::array<int, 3> out{};
  ASSERT_EQ(ring.try_pop_many(out), 3u);
  EXPECT_EQ(out, (std::array<int, 3>{0, 1, 2}));
  std::vector<int> rest(20, -1);
  ASSERT_EQ(ring.try_pop_many(rest), 5u);
  EXPECT_EQ(std::vector<int>(rest.begin(), rest.begin() + 5), (std::vector<int>{3, 4, 5, 6, 7}));
  EXPECT_EQ(rest[5], -1);
  EXPECT_EQ(ring.try_pop_many(rest), 0u);
  EXPECT_EQ(ring.try_push_many(std::span<const int>()), 0u);
}

TEST(SpscRing, BatchAndSingleOperationsKeepFifoOrderAcrossWraparound) {
  SpscRing<int> ring(8);
  int next_push = 0;
  int next_pop = 0;
  for (int round = 0; round < 1000; ++round) {
    std::array<int, 3> batch{next_push, next_push + 1, next_push + 2};
    next_push += static_cast<int>(ring.try_push_many(batch));
    if (ring.try_push(next_push)) ++next_push;
    std::array<int, 2> out{};
    const std::size_t popped = ring.try_pop_many(out);
    for (std::size_t i = 0; i < popped; ++i) EXPECT_EQ(out[i], next_pop++);
    int value;
    if (ring.try_pop(value)) {
      EXPECT_EQ(value, next_pop++);
    }
  }
  std::array<int, 8> out{};
  const std::size_t popped = ring.try_pop_many(out);
  for (std::size_t i = 0; i < popped; ++i) EXPECT_EQ(out[i], next_pop++);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_GT(next_push, 3000);
}

TEST(SpscRing, PopManyMovesOutAndDestroysTheSlots) {
  auto counter = std::make_shared<int>(0);
  SpscRing<std::shared_ptr<int>> ring(4);
  const std::array<std::shared_ptr<int>, 3> in{counter, counter, counter};
  EXPECT_EQ(ring.try_push_many(in), 3u);
  EXPECT_EQ(counter.use_count(), 7);  // copies: 3 in `in`, 3 in the ring
  std::array<std::shared_ptr<int>, 4> out;
  EXPECT_EQ(ring.try_pop_many(out), 3u);
  EXPECT_EQ(counter.use_count(), 7);  // moved out, slots destroyed
  EXPECT_EQ(out[3], nullptr);
}

TEST(SpscRing, MovesOnlyTypesAndDestroysLeftovers) {
  auto counter = std::make_shared<int>(0);
  {
    SpscRing<std::shared_ptr<int>> ring(4);
    EXPECT_TRUE(ring.try_push(counter));
    EXPECT_TRUE(ring.try_emplace(counter));
    EXPECT_TRUE(ring.try_push(counter));
    EXPECT_EQ(counter.use_count(), 4);
    std::shared_ptr<int> out;
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(counter.use_count(), 4);  // moved out, not copied
    out.reset();
    EXPECT_EQ(counter.use_count(), 3);
  }
  EXPECT_EQ(counter.use_count(), 1);  // the ring destroyed the two left in it

  SpscRing<std::unique_ptr<std::string>> ring(2);
  EXPECT_TRUE(ring.try_push(std::make_unique<std::string>("hello")));
  auto out = ring.try_pop();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(**out, "hello");
}

}  // namespace
}  // namespace zap::zync
