// TaskGroup: waits for all children; the first failure cancels the rest; spawn_blocking.
#include "zap/zell/task_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <utility>

#include "test_config.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/spawn_blocking.hpp"

namespace zell = zap::zell;
using namespace std::chrono_literals;

TEST(TaskGroup, WaitsForAllChildren) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<int> {
    std::atomic<int> done{0};
    zell::TaskGroup group;
    for (int i = 0; i < 100; ++i) {
      group.spawn([](std::atomic<int>& d, int ms) -> zell::Task<void> {
        co_await zell::sleep_for(std::chrono::microseconds(ms * 10));
        d.fetch_add(1);
      }(done, i % 7));
    }
    co_await group.wait();
    co_return done.load();
  };
  EXPECT_EQ(runtime.block_on(body()), 100);
}

// Runs `body` on a runtime of `workers`; fails (and ends the process: a hung runtime cannot be
// shut down) if it has not finished within 10 s.
template <typename Body>
void finishes_soon(std::size_t workers, Body body) {
  zell::Runtime runtime(zell_test::config(workers));
  std::atomic<bool> done{false};
  auto handle = runtime.spawn([](Body b, std::atomic<bool>& d) -> zell::Task<void> {
    co_await b();
    d = true;
  }(std::move(body), done));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  if (!done) {
    ADD_FAILURE() << "still waiting after 10 s";
    std::fflush(stdout);
    std::_Exit(1);
  }
  handle.get();
}

// A child cancelled while still queued is dropped without ever running: it has built none of its
// locals, and its count must end anyway (it used to be a local's job: wait() hung).
TEST(TaskGroup, AChildCancelledBeforeItRunsStillEndsTheWait) {
  for (int round = 0; round < 20; ++round) {
    finishes_soon(1, []() -> zell::Task<void> {
      zell::TaskGroup group;
      for (int i = 0; i < 3; ++i) {
        group.spawn([]() -> zell::Task<void> { co_await zell::sleep_for(1h); }());
      }
      group.cancel();  // one worker, busy here: none of them has run yet
      co_await group.wait();
    });
  }
}

TEST(TaskGroup, FirstFailureCancelsTheRestAndIsRethrown) {
  zell::Runtime runtime(zell_test::config(2));
  auto body = []() -> zell::Task<int> {
    std::atomic<int> finished{0};
    zell::TaskGroup group;
    for (int i = 0; i < 10; ++i) {
      group.spawn([](std::atomic<int>& f) -> zell::Task<void> {
        co_await zell::sleep_for(1h);
        f.fetch_add(1);
      }(finished));
    }
    group.spawn([]() -> zell::Task<void> {
      co_await zell::sleep_for(1ms);
      throw std::runtime_error("child failed");
    }());
    try {
      co_await group.wait();
    } catch (const std::runtime_error&) {
      co_return finished.load();
    }
    co_return -1;
  };
  EXPECT_EQ(runtime.block_on(body()), 0);
}

TEST(TaskGroup, CancellingTheParentCancelsChildrenFirst) {
  zell::Runtime runtime(zell_test::config(2));
  std::atomic<int> alive{0};
  auto parent = [](std::atomic<int>& a) -> zell::Task<void> {
    zell::TaskGroup group;
    for (int i = 0; i < 8; ++i) {
      group.spawn([](std::atomic<int>& live) -> zell::Task<void> {
        live.fetch_add(1);
        struct Leave {
          std::atomic<int>& l;
          ~Leave() { l.fetch_sub(1); }
        } leave{live};
        co_await zell::sleep_for(1h);
      }(a));
    }
    co_await group.wait();
  };
  auto h = runtime.spawn(parent(alive));
  auto probe = [](std::atomic<int>& a) -> zell::Task<void> {
    while (a.load() < 8) co_await zell::sleep_for(100us);
  };
  runtime.block_on(probe(alive));
  h.cancel();
  EXPECT_THROW(h.get(), zell::TaskCancelled);
  EXPECT_EQ(alive.load(), 0);  // every child's frame was gone before the parent's
}

TEST(SpawnBlocking, RunsOffTheWorkersAndReturnsTheValue) {
  zell::Runtime runtime(zell_test::config(1));
  auto body = []() -> zell::Task<bool> {
    const auto worker_thread = std::this_thread::get_id();
    auto other = co_await zell::spawn_blocking([] { return std::this_thread::get_id(); });
    bool threw = false;
    try {
      co_await zell::spawn_blocking([]() -> int { throw std::runtime_error("x"); });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    co_return other != worker_thread&& threw;
  };
  EXPECT_TRUE(runtime.block_on(body()));
}

namespace {
// Sets its flag from its destructor, slowly: a parent woken before it ran would see it unset.
struct SlowToDestroy {
  std::atomic<bool>* gone = nullptr;
  explicit SlowToDestroy(std::atomic<bool>* flag) : gone(flag) {}
  SlowToDestroy(SlowToDestroy&& other) noexcept : gone(std::exchange(other.gone, nullptr)) {}
  SlowToDestroy& operator=(SlowToDestroy&&) = delete;
  ~SlowToDestroy() {
    if (gone == nullptr) return;
    std::this_thread::sleep_for(2ms);
    gone->store(true);
  }
};
zell::Task<void> child_with_parameter(SlowToDestroy) { co_return; }
}  // namespace

TEST(TaskGroup, WaitReturnsOnlyOnceTheChildsFramesAreGone) {
  zell::Runtime runtime(zell_test::config(2));
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> gone{false};
    auto parent = [](std::atomic<bool>& flag) -> zell::Task<bool> {
      zell::TaskGroup group;
      group.spawn(child_with_parameter(SlowToDestroy(&flag)));
      co_await group.wait();
      co_return flag.load();
    };
    EXPECT_TRUE(runtime.block_on(parent(gone))) << "round " << round;
  }
}
