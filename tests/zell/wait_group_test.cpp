// WaitGroup (awaitable) and the frame allocator hook.
#include "zap/zell/wait_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/frame_allocator.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"

namespace zell = zap::zell;

namespace {
zell::Task<void> work(zell::WaitGroup& wg, std::atomic<int>& sum, int v) {
  sum.fetch_add(v);
  wg.done();
  co_return;
}
}  // namespace

TEST(WaitGroup, WaitsForEveryDetachedTask) {
  zell::Runtime runtime(zell_test::config(2));
  const int n = static_cast<int>(zell_test::scaled(100000));
  auto body = [](int count) -> zell::Task<int> {
    std::atomic<int> sum{0};
    zell::WaitGroup wg;
    wg.add(count);
    for (int i = 1; i <= count; ++i) zell::spawn(work(wg, sum, 1)).detach();
    co_await wg.wait();
    co_return sum.load();
  };
  EXPECT_EQ(runtime.block_on(body(n)), n);
}

TEST(WaitGroup, DoneFromPlainThreads) {
  zell::Runtime runtime(zell_test::config(2));
  zell::WaitGroup wg;
  wg.add(4);
  auto waiter = [](zell::WaitGroup& g) -> zell::Task<bool> {
    co_await g.wait();
    co_return g.count() == 0;
  };
  auto h = runtime.spawn(waiter(wg));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { wg.done(); });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(h.get());
}

TEST(WaitGroup, CancelledWaiterIsWithdrawn) {
  zell::Runtime runtime(zell_test::config(2));
  zell::WaitGroup wg;
  wg.add(1);
  auto waiter = [](zell::WaitGroup& g) -> zell::Task<void> { co_await g.wait(); };
  auto h = runtime.spawn(waiter(wg));
  auto nap = []() -> zell::Task<void> { co_await zell::sleep_for(std::chrono::milliseconds(1)); };
  runtime.block_on(nap());
  h.cancel();
  EXPECT_THROW(h.get(), zell::TaskCancelled);
  wg.done();  // nobody waits any more
}

namespace {
struct CountingAllocator final : zell::FrameAllocator {
  void* allocate(std::size_t n) override {
    live.fetch_add(1);
    total.fetch_add(1);
    return ::operator new(n);
  }
  void deallocate(void* p, std::size_t n) noexcept override {
    live.fetch_sub(1);
    ::operator delete(p, n);
  }
  std::atomic<std::int64_t> live{0};
  std::atomic<std::int64_t> total{0};
};
}  // namespace

TEST(FrameAllocator, PluggableHookServesEveryFrameAndRecord) {
  static CountingAllocator counting;
  zell::set_frame_allocator(&counting);
  {
    zell::Runtime runtime(zell_test::config(2));
    auto body = []() -> zell::Task<int> {
      auto h = zell::spawn([]() -> zell::Task<int> { co_return 1; }());
      co_return co_await h + 1;
    };
    EXPECT_EQ(runtime.block_on(body()), 2);
  }
  zell::set_frame_allocator(nullptr);
  EXPECT_GE(counting.total.load(), 4);  // two frames, two spawned records
  EXPECT_EQ(counting.live.load(), 0);
}

TEST(FrameAllocator, DefaultCacheSurvivesCrossThreadFrees) {
  std::vector<void*> blocks;
  for (int i = 0; i < 10000; ++i) blocks.push_back(zell::allocate_frame(64 + (i % 700)));
  std::thread other([&] {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      zell::deallocate_frame(blocks[i], 64 + (i % 700));
    }
  });
  other.join();
  // Reused here after being freed there.
  for (int i = 0; i < 10000; ++i) blocks[i] = zell::allocate_frame(64 + (i % 700));
  for (int i = 0; i < 10000; ++i) zell::deallocate_frame(blocks[i], 64 + (i % 700));
  SUCCEED();
}
