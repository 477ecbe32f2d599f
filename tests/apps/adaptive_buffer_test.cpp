#include "adaptive_buffer.hpp"

#include <gtest/gtest.h>

namespace zap::app {
namespace {

TEST(AdaptiveBuffer, AReadThatFillsItGrowsItFourfoldUpToTheLargestSize) {
  AdaptiveBuffer buffer(16384, 262144);
  ASSERT_TRUE(buffer.ok());
  EXPECT_EQ(buffer.size(), 16384u);
  buffer.adapt(100);  // small: stays
  EXPECT_EQ(buffer.size(), 16384u);
  buffer.adapt(16384);
  EXPECT_EQ(buffer.size(), 65536u);
  buffer.adapt(65535);  // not full: stays
  EXPECT_EQ(buffer.size(), 65536u);
  buffer.adapt(65536);
  EXPECT_EQ(buffer.size(), 262144u);
  buffer.adapt(262144);  // at the largest
  EXPECT_EQ(buffer.size(), 262144u);
  // The whole buffer is usable at every size.
  buffer.data()[buffer.size() - 1] = std::byte{1};
}

TEST(AdaptiveBuffer, EightSmallReadsInARowShrinkItStepByStepAndALargerOneResetsTheCount) {
  AdaptiveBuffer buffer(4096, 65536);
  buffer.adapt(4096);
  buffer.adapt(16384);
  ASSERT_EQ(buffer.size(), 65536u);
  for (std::uint32_t i = 1; i < AdaptiveBuffer::kSmallReadsBeforeShrink; ++i) buffer.adapt(10);
  buffer.adapt(2049);  // more than half the initial size: the count starts again
  for (std::uint32_t i = 1; i < AdaptiveBuffer::kSmallReadsBeforeShrink; ++i) buffer.adapt(2048);
  EXPECT_EQ(buffer.size(), 65536u);
  buffer.adapt(2048);  // the eighth small read in a row: one step down
  EXPECT_EQ(buffer.size(), 16384u);
  for (std::uint32_t i = 0; i < AdaptiveBuffer::kSmallReadsBeforeShrink; ++i) buffer.adapt(1);
  EXPECT_EQ(buffer.size(), 4096u);
  for (std::uint32_t i = 0; i < AdaptiveBuffer::kSmallReadsBeforeShrink; ++i) buffer.adapt(1);
  EXPECT_EQ(buffer.size(), 4096u) << "never below the initial size";
}

// A sender writing in pieces of the initial size: the first fills the buffer and grows it, and
// the grown buffer stays -- no allocation per few reads from growing and shrinking in turn.
TEST(AdaptiveBuffer, ReadsOfTheInitialSizeKeepAGrownBuffer) {
  AdaptiveBuffer buffer(16384, 65536);
  buffer.adapt(16384);
  ASSERT_EQ(buffer.size(), 65536u);
  std::byte* const grown = buffer.data();
  for (int i = 0; i < 100; ++i) buffer.adapt(16384);
  EXPECT_EQ(buffer.size(), 65536u);
  EXPECT_EQ(buffer.data(), grown);
}

TEST(AdaptiveBuffer, ReleaseGrowthGoesBackToTheInitialSize) {
  AdaptiveBuffer buffer(1024, 65536);
  buffer.adapt(1024);
  buffer.adapt(4096);
  ASSERT_EQ(buffer.size(), 16384u);
  buffer.release_growth();
  EXPECT_EQ(buffer.size(), 1024u);
  buffer.release_growth();
  EXPECT_EQ(buffer.size(), 1024u);
}

TEST(AdaptiveBuffer, ALargestSizeBelowTheInitialOneMeansAFixedBuffer) {
  AdaptiveBuffer fixed(16384, 0);
  for (int i = 0; i < 3; ++i) fixed.adapt(16384);
  EXPECT_EQ(fixed.size(), 16384u);
  AdaptiveBuffer same(8192, 8192);
  same.adapt(8192);
  EXPECT_EQ(same.size(), 8192u);
}

TEST(AdaptiveBuffer, GrowthStopsAtTheLargestSizeEvenIfNotAPowerOfFour) {
  AdaptiveBuffer buffer(1000, 10000);
  buffer.adapt(1000);
  EXPECT_EQ(buffer.size(), 4000u);
  buffer.adapt(4000);
  EXPECT_EQ(buffer.size(), 10000u);
}

}  // namespace
}  // namespace zap::app
