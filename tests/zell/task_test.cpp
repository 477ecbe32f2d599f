// Task<T>, spawn, JoinHandle, block_on: values and exceptions flow to whoever awaits.
#include "zap/zell/task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"

namespace zell = zap::zell;

namespace {

zell::RuntimeConfig small_config(std::size_t workers = 2) {
  zell::RuntimeConfig config;
  config.workers = workers;
  config.io_backend = zell::IoBackend::kNone;
  return config;
}

zell::Task<int> answer() { co_return 42; }
zell::Task<int> twice() {
  const int a = co_await answer();
  co_return 2 * a;
}
zell::Task<void> thrower() {
  throw std::runtime_error("boom");
  co_return;
}
zell::Task<int> deep(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await deep(n - 1);
}
zell::Task<std::string> catches() {
  try {
    co_await thrower();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "nothing";
}

}  // namespace

TEST(Task, BlockOnReturnsTheValue) {
  zell::Runtime runtime(small_config());
  EXPECT_EQ(runtime.block_on(twice()), 84);
}

TEST(Task, ExceptionsReachTheAwaiter) {
  zell::Runtime runtime(small_config());
  EXPECT_EQ(runtime.block_on(catches()), "caught boom");
  EXPECT_THROW(runtime.block_on(thrower()), std::runtime_error);
}

TEST(Task, DeepAwaitChainsUseNoStack) {
  zell::Runtime runtime(small_config());
  // Symmetric transfer is a tail call only when optimizing; unoptimized (sanitizer, debug)
  // builds keep a stack frame per level, so they get a shallower chain.
#if defined(NDEBUG) && !defined(ZAP_SANITIZE)
  constexpr int kDepth = 100000;
#else
  constexpr int kDepth = 1000;
#endif
  EXPECT_EQ(runtime.block_on(deep(kDepth)), kDepth);
}

TEST(Task, MoveOnlyValues) {
  zell::Runtime runtime(small_config());
  auto make = []() -> zell::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  EXPECT_EQ(*runtime.block_on(make()), 7);
}

TEST(Task, UnawaitedTaskIsDestroyedWithoutRunning) {
  bool ran = false;
  auto body = [](bool& flag) -> zell::Task<void> {
    flag = true;
    co_return;
  };
  { zell::Task<void> task = body(ran); }
  EXPECT_FALSE(ran);
}

TEST(JoinHandle, JoinsFromInsideATask) {
  zell::Runtime runtime(small_config());
  auto parent = []() -> zell::Task<int> {
    auto a = zell::spawn(answer());
    auto b = zell::spawn(twice());
    co_return co_await a + co_await b;
  };
  EXPECT_EQ(runtime.block_on(parent()), 126);
}

TEST(JoinHandle, ExceptionPropagatesToJoiner) {
  zell::Runtime runtime(small_config());
  auto parent = []() -> zell::Task<std::string> {
    auto h = zell::spawn(thrower());
    try {
      co_await h;
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no";
  };
  EXPECT_EQ(runtime.block_on(parent()), "boom");
  auto h = runtime.spawn(thrower());
  EXPECT_THROW(h.get(), std::runtime_error);
}

TEST(JoinHandle, DetachedTasksFinish) {
  zell::Runtime runtime(small_config());
  std::atomic<int> done{0};
  auto child = [](std::atomic<int>& d) -> zell::Task<void> {
    d.fetch_add(1);
    co_return;
  };
  for (int i = 0; i < 100; ++i) runtime.spawn(child(done)).detach();
  runtime.shutdown();
  EXPECT_LE(done.load(), 100);
}

TEST(JoinHandle, CancelRacingTheStartOfAJoinIsNeverLost) {
  // The joiner is cancelled while it starts to await a child that never finishes by itself: the
  // cancellation must reach the join (with the race lost, the joiner waited for the child).
  zell::Runtime runtime(small_config(2));
  auto forever = []() -> zell::Task<int> {
    co_await zell::sleep_for(std::chrono::hours(1));
    co_return 0;
  };
  auto joiner = [&]() -> zell::Task<int> { co_return co_await zell::spawn(forever()); };
  for (int i = 0; i < 2000; ++i) {
    auto h = runtime.spawn(joiner());
    h.cancel();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!h.is_finished() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(h.is_finished()) << "cancellation lost at round " << i;
    EXPECT_THROW(h.get(), zell::TaskCancelled);
  }
}
