#include "zap/zync/work_stealing_deque.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "zap/zync/backoff.hpp"

namespace zap::zync {
namespace {

constexpr std::uint32_t kCount = 200'000;

struct Counters {
  explicit Counters(std::uint32_t n) : seen(n) {}
  std::vector<std::atomic<std::uint32_t>> seen;
  std::atomic<std::uint32_t> taken{0};
  std::atomic<std::uint32_t> out_of_range{0};

  void take(std::uintptr_t value) {
    if (value >= seen.size()) {
      out_of_range.fetch_add(1, std::memory_order_relaxed);
    } else {
      seen[value].fetch_add(1, std::memory_order_relaxed);
    }
    taken.fetch_add(1, std::memory_order_relaxed);
  }
  bool done() const { return taken.load(std::memory_order_relaxed) >= seen.size(); }
};

void expect_each_exactly_once(const Counters& counters) {
  EXPECT_EQ(counters.out_of_range.load(), 0u);
  for (std::size_t i = 0; i < counters.seen.size(); ++i) {
    ASSERT_EQ(counters.seen[i].load(), 1u) << "value " << i;
  }
}

// The owner's side of every test: pushes 0..kCount-1 and pops after every `pop_every`-th push,
// then pops what the thieves left; joins them and checks that each value was taken exactly once.
void run_owner(WorkStealingDeque<std::uintptr_t>& deque, std::uintptr_t pop_every,
               Counters& counters, std::vector<std::thread>& thieves) {
  for (std::uintptr_t v = 0; v < kCount; ++v) {
    deque.push(v);
    if (v % pop_every == pop_every - 1) {
      if (auto popped = deque.pop()) counters.take(*popped);
    }
  }
  while (auto popped = deque.pop()) counters.take(*popped);
  for (auto& t : thieves) t.join();
  expect_each_exactly_once(counters);
}

// One owner pushes 0..kCount-1 (popping every third push), three thieves steal one at a time.
// A small initial capacity makes the owner grow the buffer while thieves read it.
TEST(WorkStealingDeque, OwnerAndThreeThievesTakeEveryElementExactlyOnce) {
  WorkStealingDeque<std::uintptr_t> deque(4);
  Counters counters(kCount);
  std::vector<std::thread> thieves;
  for (int i = 0; i < 3; ++i) {
    thieves.emplace_back([&] {
      Backoff backoff;
      while (!counters.done()) {
        const auto stolen = deque.steal();
        if (stolen.is_success()) {
          counters.take(stolen.value);
          backoff.reset();
        } else {
          backoff.snooze();
        }
      }
    });
  }
  run_owner(deque, 3, counters, thieves);
  EXPECT_FALSE(deque.pop().has_value());
}

// The owner pops as often as it pushes, so the deque stays near empty and the last element is
// raced for constantly (the owner's CAS against the thieves').
TEST(WorkStealingDeque, RaceForTheLastElementHasOneWinner) {
  WorkStealingDeque<std::uintptr_t> deque(64);
  Counters counters(kCount);
  std::vector<std::thread> thieves;
  for (int i = 0; i < 3; ++i) {
    thieves.emplace_back([&] {
      Backoff backoff;
      while (!counters.done()) {
        const auto stolen = deque.steal();
        if (stolen.is_success()) {
          counters.take(stolen.value);
        } else {
          backoff.spin();
          if (backoff.is_completed()) backoff.reset();
        }
      }
    });
  }
  run_owner(deque, 1, counters, thieves);
}

// Thieves steal half into their own deques (steal_batch / steal_batch_and_pop), work through their
// own deques, and are themselves stolen from by the others.
TEST(WorkStealingDeque, StealHalfIntoThievesDequesTakesEveryElementExactlyOnce) {
  constexpr int kThieves = 3;
  WorkStealingDeque<std::uintptr_t> owner_deque(8);
  std::vector<std::unique_ptr<WorkStealingDeque<std::uintptr_t>>> locals;
  for (int i = 0; i < kThieves; ++i) {
    locals.push_back(std::make_unique<WorkStealingDeque<std::uintptr_t>>(2));
  }
  Counters counters(kCount);
  std::vector<std::thread> thieves;
  for (int i = 0; i < kThieves; ++i) {
    thieves.emplace_back([&, i] {
      auto& local = *locals[static_cast<std::size_t>(i)];
      auto& neighbour = *locals[static_cast<std::size_t>((i + 1) % kThieves)];
      Backoff backoff;
      std::uint32_t round = 0;
      while (!counters.done()) {
        // Work through some of our own deque first (leaving some for the neighbour to steal).
        for (int k = 0; k < 4; ++k) {
          auto mine = local.pop();
          if (!mine) break;
          counters.take(*mine);
        }
        ++round;
        bool got = false;
        if (round % 2 == 0) {
          got = owner_deque.steal_batch(local, 16).is_success();
        } else {
          const auto first = owner_deque.steal_batch_and_pop(local, 16);
          if (first.is_success()) {
            counters.take(first.value);
            got = true;
          }
        }
        if (!got) got = neighbour.steal_batch(local, 4).is_success();
        if (got) {
          backoff.reset();
        } else {
          backoff.snooze();
        }
      }
    });
  }
  run_owner(owner_deque, 4, counters, thieves);
}

}  // namespace
}  // namespace zap::zync
