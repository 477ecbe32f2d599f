// The deadline heap (lib/zio/src/linux/timer_heap.hpp, internal) against a reference: random
// pushes, removals from anywhere and pops of the earliest, checking the order and every op's
// membership after each step.
#include "linux/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace zap::zio::detail {
namespace {

void nothing(Operation&, Result) {}

TEST(TimerHeap, MatchesASortedReferenceUnderRandomPushesRemovalsAndPops) {
  constexpr std::size_t kOps = 600;
  std::vector<std::unique_ptr<Operation>> ops;
  for (std::size_t i = 0; i < kOps; ++i) ops.push_back(std::make_unique<Operation>(&nothing));
  TimerHeap heap;
  std::set<std::pair<std::int64_t, std::size_t>> reference;  // (expiry, op index)
  std::vector<std::int64_t> expiry_of(kOps, -1);             // -1: not in the heap
  std::uint64_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  for (int step = 0; step < 200'000; ++step) {
    const std::size_t i = next() % kOps;
    const auto action = next() % 8;
    if (action < 4 && expiry_of[i] < 0) {  // push; expiries collide often (ties)
      const auto expiry = static_cast<std::int64_t>(next() % 5000);
      heap.push(*ops[i], expiry);
      expiry_of[i] = expiry;
      reference.insert({expiry, i});
    } else if (action < 7 && expiry_of[i] >= 0) {  // remove from wherever it is
      heap.remove(*ops[i]);
      reference.erase({expiry_of[i], i});
      expiry_of[i] = -1;
    } else if (!heap.empty()) {  // pop the earliest
      Operation* top = heap.top();
      ASSERT_EQ(TimerHeap::expiry(*top), reference.begin()->first) << "step " << step;
      const auto index = static_cast<std::size_t>(
          std::find_if(ops.begin(), ops.end(), [top](const auto& op) { return op.get() == top; }) -
          ops.begin());
      heap.remove(*top);
      reference.erase({expiry_of[index], index});
      expiry_of[index] = -1;
    }
    ASSERT_EQ(heap.size(), reference.size()) << "step " << step;
    if (!heap.empty()) {
      ASSERT_EQ(TimerHeap::expiry(*heap.top()), reference.begin()->first) << "step " << step;
    }
    ASSERT_EQ(TimerHeap::contains(*ops[i]), expiry_of[i] >= 0) << "step " << step;
  }
  // Drained in order.
  std::int64_t last = -1;
  while (Operation* top = heap.top()) {
    ASSERT_GE(TimerHeap::expiry(*top), last);
    last = TimerHeap::expiry(*top);
    heap.remove(*top);
    ASSERT_FALSE(TimerHeap::contains(*top));
  }
}

TEST(TimerHeap, RemovingAnOpNotInTheHeapChangesNothing) {
  Operation a(&nothing);
  Operation b(&nothing);
  TimerHeap heap;
  heap.remove(a);
  heap.push(b, 10);
  heap.remove(a);
  EXPECT_EQ(heap.top(), &b);
  heap.remove(b);
  heap.remove(b);
  EXPECT_TRUE(heap.empty());
}

}  // namespace
}  // namespace zap::zio::detail
