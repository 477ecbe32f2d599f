#include "zap/zync/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "zap/zync/backoff.hpp"

namespace zap::zync {
namespace {

// The consumer sees 0, 1, 2, ... in order: nothing lost, nothing duplicated, nothing reordered.
void run_producer_consumer(std::size_t capacity, std::uint32_t count) {
  SpscRing<std::uint32_t> ring(capacity);
  std::thread producer([&] {
    Backoff backoff;
    for (std::uint32_t i = 0; i < count; ++i) {
      while (!ring.try_push(i)) backoff.snooze();
      backoff.reset();
    }
  });
  std::vector<std::uint32_t> seen(count, 0);
  std::uint32_t expected = 0;
  std::uint32_t out_of_order = 0;
  Backoff backoff;
  for (std::uint32_t received = 0; received < count;) {
    std::uint32_t value;
    if (!ring.try_pop(value)) {
      backoff.snooze();
      continue;
    }
    backoff.reset();
    ASSERT_LT(value, count);
    ++seen[value];
    if (value != expected) ++out_of_order;
    expected = value + 1;
    ++received;
  }
  producer.join();
  EXPECT_EQ(out_of_order, 0u);
  for (std::uint32_t i = 0; i < count; ++i) ASSERT_EQ(seen[i], 1u) << "value " << i;
  std::uint32_t extra;
  EXPECT_FALSE(ring.try_pop(extra));
}

// As run_producer_consumer(), with try_push_many / try_pop_many of up to `chunk` items.
void run_batch_producer_consumer(std::size_t capacity, std::size_t chunk, std::uint32_t count) {
  SpscRing<std::uint32_t> ring(capacity);
  std::thread producer([&] {
    std::vector<std::uint32_t> values(chunk);
    Backoff backoff;
    for (std::uint32_t next = 0; next < count;) {
      const std::size_t want = std::min<std::size_t>(chunk, count - next);
      for (std::size_t i = 0; i < want; ++i) values[i] = next + static_cast<std::uint32_t>(i);
      const std::size_t pushed = ring.try_push_many(std::span(values.data(), want));
      if (pushed == 0) {
        backoff.snooze();
        continue;
      }
      backoff.reset();
      next += static_cast<std::uint32_t>(pushed);
    }
  });
  std::vector<std::uint32_t> out(chunk);
  std::uint32_t expected = 0;
  std::uint32_t wrong = 0;
  Backoff backoff;
  while (expected < count) {
    const std::size_t popped = ring.try_pop_many(out);
    if (popped == 0) {
      backoff.snooze();
      continue;
    }
    backoff.reset();
    for (std::size_t i = 0; i < popped; ++i) {
      if (out[i] != expected) ++wrong;
      ++expected;
    }
  }
  producer.join();
  EXPECT_EQ(wrong, 0u);
  std::uint32_t extra;
  EXPECT_FALSE(ring.try_pop(extra));
}

TEST(SpscRing, BatchesNeverLoseOrDuplicateUnderTwoThreads) {
  run_batch_producer_consumer(1024, 64, 200'000);
  run_batch_producer_consumer(8, 5, 20'000);  // chunks that straddle the wrap and a full ring
}

TEST(SpscRing, NeverLosesOrDuplicatesUnderTwoThreads) { run_producer_consumer(1024, 200'000); }

// Full and empty almost every operation; fewer items, since nearly every one waits.
TEST(SpscRing, NeverLosesOrDuplicatesWithATinyRing) { run_producer_consumer(2, 20'000); }

}  // namespace
}  // namespace zap::zync
