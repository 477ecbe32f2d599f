// Stress: a randomized malloc/free/realloc driver with content checks, on one and on several
// threads that free each other's blocks, and threads that exit with live blocks.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "pattern.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zi = zap::zimalloc;
namespace zt = zap::zimalloc::test;

namespace {

#if defined(ZAP_SANITIZE)
constexpr int kSteps = 40000;
#else
constexpr int kSteps = 200000;
#endif

struct Slot {
  void* p = nullptr;
  std::size_t size = 0;
};

std::size_t random_size(std::mt19937_64& rng) {
  const unsigned r = static_cast<unsigned>(rng() % 1000);
  if (r < 850) return rng() % 1024;            // small, direct classes
  if (r < 994) return 1024 + rng() % 60000;    // small and medium pages
  if (r < 999) return 65536 + rng() % 500000;  // large pages
  return (2u << 20) + rng() % (2u << 20);      // huge
}

// A shared box where threads leave blocks for others to free.
struct Exchange {
  std::mutex mutex;
  std::vector<Slot> slots;
};

void drive(std::uint64_t seed, int steps, Exchange* exchange, std::atomic<int>* failures) {
  std::mt19937_64 rng(seed);
  std::vector<Slot> slots(512);
  for (int step = 0; step < steps; ++step) {
    Slot& slot = slots[rng() % slots.size()];
    const unsigned op = static_cast<unsigned>(rng() % 10);
    if (slot.p == nullptr) {
      slot.size = random_size(rng);
      slot.p = zi::malloc(slot.size);
      if (slot.p == nullptr) {
        failures->fetch_add(1);
        continue;
      }
      zt::fill(slot.p, slot.size);
    } else if (op < 3) {  // realloc: the old content must survive as a prefix
      const std::size_t size = random_size(rng) + 1;  // realloc(p, 0) frees: not this case
      void* origin = slot.p;
      void* p = zi::realloc(slot.p, size);
      if (p == nullptr || !zt::check(p, origin, slot.size, std::min(size, slot.size))) {
        failures->fetch_add(1);
      }
      slot = {p, size};
      zt::fill(slot.p, slot.size);
    } else if (op < 5 && exchange != nullptr) {  // hand it to another thread
      if (!zt::check(slot.p, slot.size)) failures->fetch_add(1);
      Slot mine = slot;
      slot = {};
      Slot theirs;
      {
        std::lock_guard guard(exchange->mutex);
        exchange->slots.push_back(mine);
        if (exchange->slots.size() > 64) {
          theirs = exchange->slots.front();
          exchange->slots.erase(exchange->slots.begin());
        }
      }
      if (theirs.p != nullptr) {
        if (!zt::check(theirs.p, theirs.size)) failures->fetch_add(1);
        zi::free(theirs.p);
      }
    } else {
      if (!zt::check(slot.p, slot.size)) failures->fetch_add(1);
      zi::free(slot.p);
      slot = {};
    }
  }
  for (Slot& slot : slots) {
    if (slot.p == nullptr) continue;
    if (!zt::check(slot.p, slot.size)) failures->fetch_add(1);
    zi::free(slot.p);
  }
}

TEST(AllocStress, RandomDriverKeepsEveryBlockIntact) {
  std::atomic<int> failures{0};
  drive(1, kSteps, nullptr, &failures);
  EXPECT_EQ(failures.load(), 0);
}

TEST(AllocStress, ThreadsFreeEachOthersBlocks) {
  Exchange exchange;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(
        [&, t] { drive(100 + static_cast<std::uint64_t>(t), kSteps / 2, &exchange, &failures); });
  }
  for (auto& thread : threads) thread.join();
  for (Slot& slot : exchange.slots) {
    if (!zt::check(slot.p, slot.size)) failures.fetch_add(1);
    zi::free(slot.p);
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST(AllocStress, BlocksOutliveTheirThreadAndAreReclaimed) {
  zi::collect(true);
  const auto allocated_before = zi::process_stats().allocated;
  for (int round = 0; round < 8; ++round) {
    std::vector<Slot> left;
    std::thread owner([&] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(round));
      for (int i = 0; i < 3000; ++i) {
        Slot slot{nullptr, random_size(rng) % 70000};
        slot.p = zi::malloc(slot.size);
        zt::fill(slot.p, slot.size);
        left.push_back(slot);
      }
    });
    owner.join();  // the owner exits with 3000 live blocks: its segments are abandoned
    // Some are freed by a new thread, the rest here, all after their heap is gone.
    std::thread other([&] {
      for (std::size_t i = 0; i < left.size(); i += 2) {
        ASSERT_TRUE(zt::check(left[i].p, left[i].size));
        zi::free(left[i].p);
      }
    });
    other.join();
    for (std::size_t i = 1; i < left.size(); i += 2) {
      ASSERT_TRUE(zt::check(left[i].p, left[i].size));
      zi::free(left[i].p);
    }
  }
  zi::collect(true);  // takes over the abandoned segments, finds them empty, returns them
  EXPECT_EQ(zi::process_stats().allocated, allocated_before);
}

}  // namespace
