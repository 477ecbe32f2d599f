#include "pool_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <zap/zell/runtime.hpp>
#include <zap/zell/sleep.hpp>

namespace zap::proxy {
namespace {

using std::chrono::milliseconds;

zio::SocketAddress address(const std::string& text) {
  std::error_code ec;
  return zio::SocketAddress::parse(text, ec);
}

const zio::SocketAddress kClient = address("192.168.1.7:50000");

// A pool of one backend that takes `limit` connections; health checks off (always up).
BackendPool full_pool(std::int64_t limit) {
  BackendSettings backend{address("10.0.0.1:9001")};
  backend.max_connections = limit;
  return BackendPool({backend}, Balance::kRoundRobin, {.checked = false});
}

zell::RuntimeConfig two_workers() {
  zell::RuntimeConfig config;
  config.workers = 2;
  config.pin_workers = false;
  return config;
}

zell::Task<QueueWait> wait_for(PoolQueue& queue, BackendPool& pool, milliseconds timeout,
                               std::int64_t max_waiting = 0) {
  std::uint64_t tried = 0;
  co_return co_await queue.wait_for_backend(pool, {kClient}, tried, timeout, max_waiting);
}

zell::Task<Backend*> wait(PoolQueue& queue, BackendPool& pool, milliseconds timeout) {
  co_return (co_await wait_for(queue, pool, timeout)).backend;
}

template <typename Pred>
bool eventually(Pred done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(milliseconds(10));
  return done();
}

TEST(PoolQueue, AWaiterGetsTheRoomAConnectionLeaves) {
  BackendPool pool = full_pool(1);
  PoolQueue queue(std::chrono::minutes(10));  // wakeups alone hand places over
  zell::Runtime runtime(two_workers());       // (after what its tasks use: stopped first)
  std::uint64_t tried = 0;
  ASSERT_NE(pool.pick(kClient, tried), nullptr);  // the one place, taken
  auto waiter = runtime.spawn(wait(queue, pool, milliseconds(60'000)));
  ASSERT_TRUE(eventually([&] { return queue.waiting() == 1; }));
  const auto released = std::chrono::steady_clock::now();
  pool.at(0).active.fetch_sub(1);  // that connection ends
  queue.slot_freed();
  EXPECT_EQ(waiter.get(), &pool.at(0));
  // Woken, not at its deadline (which would also find the place): half of it is plenty.
  EXPECT_LT(std::chrono::steady_clock::now() - released, milliseconds(30'000));
  EXPECT_EQ(pool.at(0).active.load(), 1) << "the waiter holds the place now";
  EXPECT_EQ(queue.waiting(), 0);
}

TEST(PoolQueue, AWaiterGivesUpAtItsTimeout) {
  BackendPool pool = full_pool(1);
  PoolQueue queue;
  zell::Runtime runtime(two_workers());  // (after what its tasks use: stopped first)
  std::uint64_t tried = 0;
  ASSERT_NE(pool.pick(kClient, tried), nullptr);
  const auto start = std::chrono::steady_clock::now();
  const QueueWait waited = runtime.block_on(wait_for(queue, pool, milliseconds(150)));
  EXPECT_EQ(waited.backend, nullptr);
  EXPECT_EQ(waited.outcome, QueueWait::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
  EXPECT_EQ(queue.waiting(), 0);
  EXPECT_EQ(pool.at(0).active.load(), 1);
}

TEST(PoolQueue, WaitersLeaveWhenTheBackendsGoDownRatherThanFull) {
  BackendPool pool = full_pool(1);
  PoolQueue queue;
  zell::Runtime runtime(two_workers());  // (after what its tasks use: stopped first)
  std::uint64_t tried = 0;
  ASSERT_NE(pool.pick(kClient, tried), nullptr);
  auto waiter = runtime.spawn(wait(queue, pool, milliseconds(60'000)));
  ASSERT_TRUE(eventually([&] { return queue.waiting() == 1; }));
  pool.at(0).up.store(false);  // no connection ending will make room now
  EXPECT_EQ(waiter.get(), nullptr);
  BackendPool down = full_pool(1);
  down.at(0).up.store(false);
  EXPECT_EQ(runtime.block_on(wait_for(queue, down, milliseconds(60'000))).outcome,
            QueueWait::kNothingUp)
      << "nothing up: no wait at all";
}

// HAProxy's maxqueue: past `max_waiting` clients in line, the next is turned away at once.
TEST(PoolQueue, AFullLineTurnsTheNextClientAway) {
  BackendPool pool = full_pool(1);
  PoolQueue queue(std::chrono::minutes(10));
  zell::Runtime runtime(two_workers());  // (after what its tasks use: stopped first)
  std::uint64_t tried = 0;
  ASSERT_NE(pool.pick(kClient, tried), nullptr);
  auto first = runtime.spawn(wait_for(queue, pool, milliseconds(60'000), 1));
  ASSERT_TRUE(eventually([&] { return queue.waiting() == 1; }));
  const QueueWait turned_away = runtime.block_on(wait_for(queue, pool, milliseconds(60'000), 1));
  EXPECT_EQ(turned_away.backend, nullptr);
  EXPECT_EQ(turned_away.outcome, QueueWait::kQueueFull);
  EXPECT_EQ(queue.waiting(), 1);
  pool.at(0).active.fetch_sub(1);
  queue.slot_freed();
  const QueueWait served = first.get();
  EXPECT_EQ(served.backend, &pool.at(0));
  EXPECT_EQ(served.outcome, QueueWait::kGot);
}

// HAProxy's queue is a line: with one place, the clients waiting for it get it in the order they
// came, one per connection that ends -- not whichever looked last.
TEST(PoolQueue, TheLineIsServedInTheOrderItCame) {
  BackendPool pool = full_pool(1);
  PoolQueue queue(std::chrono::minutes(10));  // wakeups alone hand places over
  zell::Runtime runtime(two_workers());       // (after what its tasks use: stopped first)
  std::uint64_t tried = 0;
  ASSERT_NE(pool.pick(kClient, tried), nullptr);
  std::mutex order_lock;
  std::vector<int> order;
  auto client = [&](int id) -> zell::Task<void> {
    if ((co_await wait_for(queue, pool, milliseconds(60'000))).backend == nullptr) co_return;
    const std::lock_guard guard(order_lock);
    order.push_back(id);
  };
  std::vector<zell::JoinHandle<void>> clients;
  for (int id = 0; id < 5; ++id) {
    clients.push_back(runtime.spawn(client(id)));
    ASSERT_TRUE(eventually([&] { return queue.waiting() == id + 1; }));  // in line, in turn
  }
  for (std::size_t served = 1; served <= 5; ++served) {
    pool.at(0).active.fetch_sub(1);  // the place's holder leaves
    queue.slot_freed();
    ASSERT_TRUE(eventually([&] {
      const std::lock_guard guard(order_lock);
      return order.size() == served;
    }));
  }
  for (auto& c : clients) c.get();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.waiting(), 0);
}

// With "source" each client waits for its own backend: room on another backend goes down the line
// to the first client that can use it, past one still waiting for a busy backend.
TEST(PoolQueue, AClientWaitingForItsOwnBusyBackendDoesNotHoldUpTheOthers) {
  BackendSettings a{address("10.0.0.1:9001")};
  BackendSettings b{address("10.0.0.2:9001")};
  a.max_connections = 1;
  b.max_connections = 1;
  BackendPool pool({a, b}, Balance::kSource, {.checked = false});
  // A client address that "source" sends to each backend.
  zio::SocketAddress to[2];
  for (int i = 1, found = 0; i < 255 && found < 3; ++i) {
    const zio::SocketAddress candidate = address("192.168.1." + std::to_string(i) + ":5000");
    std::uint64_t tried = 0;
    Backend* picked = pool.pick(candidate, tried);
    ASSERT_NE(picked, nullptr);
    const int index = picked == &pool.at(0) ? 0 : 1;
    picked->active.fetch_sub(1);
    if (to[index].family() == 0) {
      to[index] = candidate;
      found |= 1 << index;
    }
  }
  ASSERT_NE(to[0].family(), 0);
  ASSERT_NE(to[1].family(), 0);
  PoolQueue queue(std::chrono::minutes(10));     // wakeups alone hand places over
  zell::Runtime runtime(two_workers());          // (after what its tasks use: stopped first)
  for (const zio::SocketAddress& client : to) {  // both backends full
    std::uint64_t tried = 0;
    ASSERT_NE(pool.pick(client, tried), nullptr);
  }
  auto waiter = [&](const zio::SocketAddress& client) -> zell::Task<Backend*> {
    std::uint64_t tried = 0;
    co_return (co_await queue.wait_for_backend(pool, {client}, tried, milliseconds(60'000)))
        .backend;
  };
  auto first = runtime.spawn(waiter(to[0]));  // the head of the line, for backend 0
  ASSERT_TRUE(eventually([&] { return queue.waiting() == 1; }));
  auto second = runtime.spawn(waiter(to[1]));  // behind it, for backend 1
  ASSERT_TRUE(eventually([&] { return queue.waiting() == 2; }));
  pool.at(1).active.fetch_sub(1);  // room on backend 1 only
  queue.slot_freed();
  EXPECT_EQ(second.get(), &pool.at(1)) << "the room went past the head to the client for it";
  EXPECT_EQ(queue.waiting(), 1);
  pool.at(0).active.fetch_sub(1);
  queue.slot_freed();
  EXPECT_EQ(first.get(), &pool.at(0));
}

// Many clients through a pool of two places: each gets a place once there is room, and the limit
// holds throughout.
TEST(PoolQueue, ManyWaitersShareTheRoomWithinTheLimit) {
  BackendPool pool = full_pool(2);
  PoolQueue queue(std::chrono::minutes(10));  // wakeups alone hand places over
  zell::Runtime runtime(two_workers());       // (after what its tasks use: stopped first)
  std::atomic<int> served{0};
  std::atomic<bool> over_limit{false};
  auto client = [&]() -> zell::Task<void> {
    std::uint64_t tried = 0;
    Backend* backend = pool.pick(kClient, tried);
    if (backend == nullptr)
      backend =
          (co_await queue.wait_for_backend(pool, {kClient}, tried, milliseconds(60'000))).backend;
    if (backend == nullptr) co_return;
    if (backend->active.load() > 2) over_limit = true;
    co_await zell::sleep_for(milliseconds(1));
    ++served;
    backend->active.fetch_sub(1);
    queue.slot_freed();
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<zell::JoinHandle<void>> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(runtime.spawn(client()));
  for (auto& c : clients) c.get();
  EXPECT_EQ(served.load(), 40);
  // By wakeups, not by waiters reaching their deadlines (which would also find places).
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(30'000));
  EXPECT_FALSE(over_limit.load());
  EXPECT_EQ(pool.at(0).active.load(), 0);
  EXPECT_EQ(queue.waiting(), 0);
}

}  // namespace
}  // namespace zap::proxy
