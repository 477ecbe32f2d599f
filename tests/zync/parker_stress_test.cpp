#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "zap/zync/parker.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr std::uint32_t kRounds = 5'000;
#else
constexpr std::uint32_t kRounds = 50'000;
#endif

// Two threads hand a token back and forth, each parking until the other unparks it. A lost wakeup
// deadlocks the test (the ctest timeout catches it).
TEST(ParkerStress, PingPongNeverMissesAWakeup) {
  Parker ping_parker;
  Parker pong_parker;
  std::atomic<std::uint32_t> turn{0};  // even: ping's move, odd: pong's
  std::uint64_t handoffs = 0;          // touched only by the thread whose turn it is
  auto player = [&](std::uint32_t parity, Parker& mine, Parker& other) {
    for (std::uint32_t i = 0; i < kRounds; ++i) {
      // acquire: pairs with the other's release store, so `handoffs` is ours to touch.
      while (turn.load(std::memory_order_acquire) % 2 != parity) mine.park();
      ++handoffs;
      // release: hands `handoffs` to the other thread.
      turn.fetch_add(1, std::memory_order_release);
      other.unpark();
    }
  };
  std::thread ping(player, 0u, std::ref(ping_parker), std::ref(pong_parker));
  std::thread pong(player, 1u, std::ref(pong_parker), std::ref(ping_parker));
  ping.join();
  pong.join();
  EXPECT_EQ(handoffs, 2u * kRounds);
}

// Many unparkers, one parker consuming: every unpark() after the flag write is observed.
TEST(ParkerStress, ManyUnparkersWakeTheOwner) {
  constexpr int kUnparkers = 4;
  Parker parker;
  std::atomic<std::uint32_t> produced{0};
  std::thread unparkers[kUnparkers];
  for (auto& t : unparkers) {
    t = std::thread([&] {
      for (std::uint32_t i = 0; i < kRounds / kUnparkers; ++i) {
        // relaxed is enough: the unpark() after it releases, and park() acquires.
        produced.fetch_add(1, std::memory_order_relaxed);
        parker.unpark();
      }
    });
  }
  const std::uint32_t total = (kRounds / kUnparkers) * kUnparkers;
  while (produced.load(std::memory_order_relaxed) != total) parker.park();
  for (auto& t : unparkers) t.join();
  EXPECT_EQ(produced.load(), total);
}

}  // namespace
}  // namespace zap::zync
