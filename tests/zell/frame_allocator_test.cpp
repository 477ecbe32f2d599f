// Where coroutine frames and spawned-task records come from: zimalloc by default, from any
// thread to any thread; an installed FrameAllocator instead.
#include "zap/zell/frame_allocator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zell = zap::zell;
namespace zimalloc = zap::zimalloc;

namespace {

// Awaiting it yields the awaiting coroutine's frame address (what its operator new returned).
struct OwnFrame {
  void* frame = nullptr;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) noexcept {
    frame = self.address();
    return false;  // resume at once
  }
  void* await_resume() const noexcept { return frame; }
};

zell::Task<void*> frame_address() { co_return co_await OwnFrame{}; }

}  // namespace

TEST(FrameAllocator, DefaultIsZimalloc) {
  ASSERT_EQ(zell::frame_allocator(), nullptr);
  const std::int64_t before = zimalloc::thread_stats().allocated;
  void* frame = zell::allocate_frame(200);
  EXPECT_TRUE(zimalloc::owns(frame));
  EXPECT_GE(zimalloc::usable_size(frame), 200u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(frame) % __STDCPP_DEFAULT_NEW_ALIGNMENT__, 0u);
  EXPECT_GE(zimalloc::thread_stats().allocated - before, 200);
  zell::deallocate_frame(frame, 200);
  // Even the smallest request is aligned for any frame.
  void* tiny = zell::allocate_frame(1);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(tiny) % __STDCPP_DEFAULT_NEW_ALIGNMENT__, 0u);
  zell::deallocate_frame(tiny, 1);
}

TEST(FrameAllocator, TaskFramesOnWorkersComeFromZimalloc) {
  zell::Runtime runtime(zell_test::config(2));
  void* root = runtime.block_on(frame_address());
  EXPECT_TRUE(zimalloc::owns(root));
  auto body = []() -> zell::Task<bool> {
    void* spawned = co_await zell::spawn(frame_address());
    void* awaited = co_await frame_address();
    co_return zimalloc::owns(spawned) && zimalloc::owns(awaited);
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

TEST(FrameAllocator, FramesMadeOnOneWorkerAreFreedOnAnother) {
  // Each task's frame is made on worker 0 (where spawn_on_worker is called) and destroyed on
  // worker 1 (where it runs), over and over: zimalloc's thread-free lists take them back.
  zell::Runtime runtime(zell_test::config(2));
  const std::size_t rounds = zell_test::scaled(20000);
  std::atomic<std::size_t> ran{0};
  auto producer = [&]() -> zell::Task<std::size_t> {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < rounds; i += 64) {
      std::vector<zell::JoinHandle<std::size_t>> batch;
      for (std::size_t j = i; j < i + 64 && j < rounds; ++j) {
        batch.push_back(zell::spawn_on_worker(
            1, [](std::atomic<std::size_t>& n, std::size_t v) -> zell::Task<std::size_t> {
              n.fetch_add(1, std::memory_order_relaxed);
              co_return v;
            }(ran, j)));
      }
      for (auto& h : batch) sum += co_await h;
    }
    co_return sum;
  };
  const std::size_t sum = runtime.spawn_on_worker(0, producer()).get();
  EXPECT_EQ(ran.load(), rounds);
  EXPECT_EQ(sum, rounds * (rounds - 1) / 2);
}

TEST(FrameAllocator, BlocksFreedOnAnotherThreadAreReused) {
  std::vector<void*> blocks;
  for (int i = 0; i < 10000; ++i) blocks.push_back(zell::allocate_frame(64 + (i % 700)));
  std::thread other([&] {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      EXPECT_TRUE(zimalloc::owns(blocks[i]));
      zell::deallocate_frame(blocks[i], 64 + (i % 700));
    }
  });
  other.join();
  for (int i = 0; i < 10000; ++i) blocks[i] = zell::allocate_frame(64 + (i % 700));
  for (int i = 0; i < 10000; ++i) zell::deallocate_frame(blocks[i], 64 + (i % 700));
  SUCCEED();
}

TEST(FrameAllocator, InstalledAllocatorServesEveryFrameAndRecord) {
  static zell_test::LiveFrames counting;
  zell::set_frame_allocator(&counting);
  EXPECT_EQ(zell::frame_allocator(), &counting);
  {
    zell::Runtime runtime(zell_test::config(2));
    auto body = []() -> zell::Task<int> {
      auto h = zell::spawn([]() -> zell::Task<int> { co_return 1; }());
      co_return co_await h + 1;
    };
    EXPECT_EQ(runtime.block_on(body()), 2);
    void* frame = runtime.block_on(frame_address());
    EXPECT_FALSE(zimalloc::owns(frame));
  }
  zell::set_frame_allocator(nullptr);
  EXPECT_EQ(zell::frame_allocator(), nullptr);
  EXPECT_GE(counting.total.load(), 4);  // two frames, two spawned records
  EXPECT_EQ(counting.live.load(), 0);
}
