#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "zap/zync/wait_group.hpp"

namespace zap::zync {
namespace {

#if defined(ZAP_SANITIZE)
constexpr int kRounds = 150;
#else
constexpr int kRounds = 2'000;
#endif

// Rounds of: 4 workers each doing a share of the work and done(); 2 waiters racing with the last
// done(). Every round's work must be complete when any wait() returns; a missed wakeup hangs.
TEST(WaitGroupStress, WaitNeverMissesTheLastDone) {
  constexpr int kWorkers = 4;
  constexpr int kPiecesPerWorker = 8;
  for (int round = 0; round < kRounds; ++round) {
    WaitGroup wg;
    std::uint64_t work[kWorkers] = {};  // each written by one worker, read after wait()
    wg.add(kWorkers * kPiecesPerWorker);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&, w] {
        for (int p = 0; p < kPiecesPerWorker; ++p) {
          ++work[w];
          wg.done();
        }
      });
    }
    std::atomic<int> ok_waiters{0};
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&] {
        wg.wait();
        bool all = true;
        for (auto count : work) all = all && count == kPiecesPerWorker;
        if (all) ok_waiters.fetch_add(1, std::memory_order_relaxed);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(ok_waiters.load(), 2) << "round " << round;
    ASSERT_EQ(wg.count(), 0u);
  }
}

// The waiter destroys the WaitGroup as soon as wait() returns, while the last done() may still be
// returning: done() must not touch the object after its final update (ASan checks this).
TEST(WaitGroupStress, WaiterMayDestroyItRightAway) {
  for (int round = 0; round < kRounds; ++round) {
    auto* wg = new WaitGroup;
    wg->add(2);
    std::thread a([wg] { wg->done(); });
    std::thread b([wg] { wg->done(); });
    wg->wait();
    delete wg;
    a.join();
    b.join();
  }
}

}  // namespace
}  // namespace zap::zync
