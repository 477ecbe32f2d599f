#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "zap/zync/event.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kRounds = 300;
#else
constexpr int kRounds = 2'000;
#endif

// Each round uses a fresh Event: waiters race with set(); none may miss it (a miss hangs).
TEST(EventStress, NoWaiterMissesTheSet) {
  constexpr int kWaiters = 4;
  for (int round = 0; round < kRounds; ++round) {
    Event event;
    std::atomic<int> passed{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < kWaiters; ++i) {
      waiters.emplace_back([&] {
        event.wait();
        passed.fetch_add(1, std::memory_order_relaxed);
      });
    }
    event.set();
    for (auto& w : waiters) w.join();
    ASSERT_EQ(passed.load(), kWaiters) << "round " << round;
  }
}

// Two threads alternate through two Events, resetting them: set/reset/wait never lose a round.
TEST(EventStress, ResetAndSetAlternate) {
  Event ping;
  Event pong;
  int rounds = 0;  // handed between the threads by the events
  std::thread other([&] {
    for (int i = 0; i < kRounds * 10; ++i) {
      ping.wait();
      ping.reset();
      ++rounds;
      pong.set();
    }
  });
  for (int i = 0; i < kRounds * 10; ++i) {
    ping.set();
    pong.wait();
    pong.reset();
  }
  other.join();
  EXPECT_EQ(rounds, kRounds * 10);
}

}  // namespace
}  // namespace zap::zync
