// Runtime shutdown with tasks in the middle of waits: joins, task groups, wait groups, queued
// inbox entries. Frames come from ::operator new here (an installed FrameAllocator), so that
// AddressSanitizer sees any frame touched after it was freed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "test_config.hpp"
#include "zap/zell/frame_allocator.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/task_group.hpp"
#include "zap/zell/wait_group.hpp"

namespace zell = zap::zell;

namespace {

class Shutdown : public ::testing::Test {
 protected:
  void SetUp() override {
    frames_.live = 0;
    zell::set_frame_allocator(&frames_);
  }
  void TearDown() override {
    zell::set_frame_allocator(nullptr);
    // Once a test's runtime and handles are gone, every frame must be.
    EXPECT_EQ(frames_.live.load(), 0) << "coroutine frames leaked by shutdown";
  }

 private:
  static zell_test::LiveFrames frames_;
};
zell_test::LiveFrames Shutdown::frames_;

zell::Task<int> forever(std::atomic<int>& started) {
  started.fetch_add(1);
  co_await zell::sleep_for(std::chrono::hours(1));
  co_return 0;
}

zell::Task<int> join_child(std::atomic<int>& started) {
  co_return co_await zell::spawn(forever(started));
}

zell::Task<void> forever_void(std::atomic<int>& started) { (void)co_await forever(started); }

zell::Task<void> wait_for_group(std::atomic<int>& started) {
  zell::TaskGroup group;
  group.spawn(forever_void(started));
  group.spawn(forever_void(started));
  co_await group.wait();
}

void wait_until(const std::atomic<int>& n, int at_least) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (n.load() < at_least && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(n.load(), at_least);
}

}  // namespace

TEST_F(Shutdown, ParentJoiningAChildWhileAThreadWaitsOnTheParent) {
  std::atomic<int> started{0};
  auto runtime = std::make_unique<zell::Runtime>(zell_test::config(2));
  auto handle = runtime->spawn(join_child(started));
  std::atomic<bool> cancelled{false};
  std::thread blocker([&] {
    try {
      handle.get();
    } catch (const zell::TaskCancelled&) {
      cancelled = true;
    }
  });
  wait_until(started, 1);
  runtime.reset();
  blocker.join();
  EXPECT_TRUE(cancelled.load());
}

TEST_F(Shutdown, TaskGroupWaitInProgress) {
  std::atomic<int> started{0};
  {
    zell::Runtime runtime(zell_test::config(2));
    for (int i = 0; i < 8; ++i) runtime.spawn(wait_for_group(started)).detach();
    wait_until(started, 16);
  }
  SUCCEED();
}

TEST_F(Shutdown, ManyJoinsAndDetachedPinnedTasksInProgress) {
  std::atomic<int> started{0};
  {
    zell::Runtime runtime(zell_test::config(2));
    std::vector<zell::JoinHandle<int>> handles;
    for (int i = 0; i < 32; ++i) handles.push_back(runtime.spawn(join_child(started)));
    wait_until(started, 32);
    // Queued on a worker's inbox, maybe still there when the worker stops.
    for (int i = 0; i < 64; ++i) runtime.spawn_on_worker(i % 2, forever(started)).detach();
  }
  SUCCEED();
}

// Tasks that never ran, in every kind of run queue, when the workers stop: the local deque,
// the global and node injection queues, a worker's inbox (pinned, spawned from elsewhere) and
// pinned queue. None has waited, so only the queues know them; shutdown must still destroy them.
TEST_F(Shutdown, QueuedTasksThatNeverRanAreDestroyed) {
  std::atomic<bool> release{false};
  std::atomic<int> blocking{0};
  std::atomic<int> ran{0};
  auto runtime = std::make_unique<zell::Runtime>(zell_test::config(2));
  // Holds its worker's thread (not a suspension) until released.
  auto hold_worker = [&]() {
    blocking.fetch_add(1);
    while (!release.load()) std::this_thread::yield();
  };
  auto counted = [&ran]() -> zell::Task<int> {
    ran.fetch_add(1);
    co_return 1;
  };
  std::vector<zell::JoinHandle<int>> handles;
  auto spawner = [&]() -> zell::Task<void> {
    for (int i = 0; i < 600; ++i) handles.push_back(zell::spawn(counted()));  // local deque
    for (int i = 0; i < 50; ++i) handles.push_back(zell::spawn_on_worker(1, counted()));  // inbox
    for (int i = 0; i < 50; ++i) handles.push_back(zell::spawn_on_worker(0, counted()));  // pinned
    for (int i = 0; i < 50; ++i) handles.push_back(zell::spawn_on_node(0, counted()));    // node
    hold_worker();
    co_return;
  };
  auto holder = [&]() -> zell::Task<void> {
    hold_worker();
    co_return;
  };
  auto held_1 = runtime->spawn_on_worker(1, holder());
  auto held_0 = runtime->spawn_on_worker(0, spawner());
  wait_until(blocking, 2);
  for (int i = 0; i < 50; ++i) handles.push_back(runtime->spawn(counted()));  // global
  // Both workers are held: shutdown marks them stopping, and they stop as soon as released.
  // The releaser waits until shutdown has begun (a task spawned from outside then finishes at
  // once, cancelled: nothing can run it), not for a fixed time a loaded machine may overrun.
  auto probe = []() -> zell::Task<int> { co_return 0; };
  std::thread releaser([&] {
    std::vector<zell::JoinHandle<int>> probes;
    while (probes.empty() || !probes.back().is_finished()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      probes.push_back(runtime->spawn(probe()));
    }
    // Shutdown closes the door to outside spawns just before it marks the workers stopping.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  runtime->shutdown();
  releaser.join();
  int cancelled = 0;
  for (auto& h : handles) {
    try {
      EXPECT_EQ(h.get(), 1);
    } catch (const zell::TaskCancelled&) {
      ++cancelled;
    }
  }
  EXPECT_EQ(cancelled + ran.load(), 800);
  EXPECT_GT(cancelled, 0);
  handles.clear();
  runtime.reset();
}

TEST_F(Shutdown, SpawnsAndCancelsFromOtherThreadsRaceShutdownSafely) {
  // IO reactors too: their wake-ups are what a closing loop must not be in the middle of.
  zell::Runtime runtime(zell_test::config(2, zell::IoBackend::kAutomatic));
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto h = runtime.spawn(forever(started));
        h.cancel();
        try {
          h.get();  // never blocks forever: the task is cancelled, run or dropped
        } catch (const zell::TaskCancelled&) {
        }
        finished.fetch_add(1);
      }
    });
  }
  wait_until(finished, 20);
  runtime.shutdown();
  const int after = finished.load();
  wait_until(finished, after + 20);  // spawns after shutdown fail at once (TaskCancelled)
  stop = true;
  for (auto& t : threads) t.join();
  auto late = runtime.spawn(forever(started));
  EXPECT_THROW(late.get(), zell::TaskCancelled);
}
