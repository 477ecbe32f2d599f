#include "zap/zync/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
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

TEST(SpscRing, NeverLosesOrDuplicatesUnderTwoThreads) { run_producer_consumer(1024, 200'000); }

// Full and empty almost every operation; fewer items, since nearly every one waits.
TEST(SpscRing, NeverLosesOrDuplicatesWithATinyRing) { run_producer_consumer(2, 20'000); }

}  // namespace
}  // namespace zap::zync
