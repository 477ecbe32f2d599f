#include "latency_histogram.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "byte_pattern.hpp"

namespace zap::load {
namespace {

TEST(LatencyHistogram, BucketsCoverEveryValueWithinThreePercent) {
  for (std::uint64_t v : {0ull, 1ull, 31ull, 32ull, 33ull, 1000ull, 123456ull, 999999999ull,
                          (1ull << 40) + 12345, ~0ull}) {
    const unsigned b = LatencyHistogram::bucket_of(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    const std::uint64_t floor = LatencyHistogram::bucket_floor(b);
    EXPECT_LE(floor, v);
    EXPECT_LE(v - floor, LatencyHistogram::bucket_width(b) - 1);
    EXPECT_LE(double(LatencyHistogram::bucket_width(b)), 0.0313 * double(v) + 1.0) << v;
  }
}

TEST(LatencyHistogram, PercentilesOfAUniformRange) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_NEAR(double(h.percentile(50)), 50e6, 50e6 * 0.03);
  EXPECT_NEAR(double(h.percentile(99)), 99e6, 99e6 * 0.03);
  EXPECT_NEAR(double(h.percentile(99.9)), 99.9e6, 99.9e6 * 0.03);
  EXPECT_LE(h.percentile(100), h.max());
  EXPECT_NEAR(h.mean(), 50.0005e6, 1e3);
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.record(10);
  b.record(1000000);
  a.merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.max(), 1000000u);
  EXPECT_EQ(a.min(), 10u);
  EXPECT_EQ(LatencyHistogram().percentile(99), 0u);
}

TEST(BytePattern, DetectsShiftsCrossoversAndFlips) {
  std::byte message[4096];
  fill_pattern(3, 1 << 20, message, sizeof message);
  EXPECT_EQ(count_mismatches(3, 1 << 20, message, sizeof message), 0u);
  for (std::uint64_t shift : {1ull, 64ull, 256ull, 65536ull, 1ull << 24}) {
    EXPECT_GT(count_mismatches(3, (1 << 20) + shift, message, sizeof message), 0u) << shift;
  }
  // Another connection's bytes, also one 256 or 65536 apart (a per-connection term mod 256
  // once made those identical).
  for (std::uint32_t other : {4u, 3u + 256u, 3u + 65536u}) {
    EXPECT_GT(count_mismatches(other, 1 << 20, message, sizeof message), 0u) << other;
  }
  message[17] ^= std::byte{1};
  EXPECT_EQ(count_mismatches(3, 1 << 20, message, sizeof message), 1u);
  // Small messages (each inside one 256-byte block) swapped between connections 256 apart: a
  // run of them shows it.
  int caught = 0;
  for (std::uint64_t k = 0; k < 200; ++k) {
    std::byte small[64];
    fill_pattern(259, k * 64, small, sizeof small);
    caught += count_mismatches(3, k * 64, small, sizeof small) > 0 ? 1 : 0;
  }
  EXPECT_GE(caught, 190);
}

// fill_pattern and count_mismatches work eight bytes at a time per 256-byte block; they must
// give exactly pattern_byte() at any offset (unaligned starts and ends, block and 2^24
// boundaries) and count exactly the bytes that differ.
TEST(BytePattern, TheWordAtATimePathsMatchTheDefinitionByteForByte) {
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto next = [&seed] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  std::vector<std::byte> buffer(3000);
  for (int round = 0; round < 2000; ++round) {
    const auto connection = static_cast<std::uint32_t>(next() % 1000);
    const std::uint64_t bases[] = {0, 250, (1ull << 24) - 100, (1ull << 32) - 7, next() >> 20};
    const std::uint64_t offset = bases[round % 5] + next() % 600;
    const std::size_t size = next() % buffer.size();
    fill_pattern(connection, offset, buffer.data(), size);
    for (std::size_t i = 0; i < size; ++i) {
      ASSERT_EQ(std::to_integer<std::uint8_t>(buffer[i]), pattern_byte(connection, offset + i))
          << "connection " << connection << " offset " << offset << " + " << i;
    }
    ASSERT_EQ(count_mismatches(connection, offset, buffer.data(), size), 0u);
    std::size_t flipped = 0;
    for (std::size_t i = 0; i < size; i += 1 + next() % 97) {
      buffer[i] ^= std::byte{static_cast<std::uint8_t>(1 + next() % 255)};
      ++flipped;
    }
    ASSERT_EQ(count_mismatches(connection, offset, buffer.data(), size), flipped)
        << "connection " << connection << " offset " << offset << " size " << size;
  }
}

}  // namespace
}  // namespace zap::load
