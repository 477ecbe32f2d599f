#include "backend_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <map>
#include <string>
#include <thread>

namespace zap::proxy {
namespace {

zio::SocketAddress address(const std::string& text) {
  std::error_code ec;
  return zio::SocketAddress::parse(text, ec);
}

std::vector<BackendSettings> backends(std::initializer_list<std::int64_t> weights) {
  std::vector<BackendSettings> out;
  int port = 9001;
  for (const std::int64_t w : weights) {
    out.push_back({address("10.0.0.1:" + std::to_string(port++)), w});
  }
  return out;
}

const zio::SocketAddress kClient = address("192.168.1.7:50000");

// The position of the backend pool.pick() chooses for `client` (size() for none), checking that
// it marked exactly that one in `tried`.
std::size_t pick(BackendPool& pool, const zio::SocketAddress& client, std::uint64_t tried = 0) {
  const std::uint64_t before = tried;
  const Backend* chosen = pool.pick(client, tried);
  if (chosen == nullptr) {
    EXPECT_EQ(tried, before);
    return pool.size();
  }
  const std::uint64_t marked = tried & ~before;
  EXPECT_EQ(std::popcount(marked), 1);
  const auto position = static_cast<std::size_t>(std::countr_zero(marked));
  EXPECT_EQ(&pool.at(position), chosen);
  return position;
}

TEST(RoundRobin, GivesEachItsWeightPerCycleSpreadOut) {
  BackendPool pool(backends({5, 1, 1}), Balance::kRoundRobin, {});
  std::string order;
  for (int i = 0; i < 7; ++i) order += static_cast<char>('a' + pick(pool, kClient, 0));
  EXPECT_EQ(std::count(order.begin(), order.end(), 'a'), 5);
  EXPECT_EQ(std::count(order.begin(), order.end(), 'b'), 1);
  EXPECT_EQ(std::count(order.begin(), order.end(), 'c'), 1);
  EXPECT_EQ(order.find("aaaa"), std::string::npos) << order << ": not smooth";
}

TEST(RoundRobin, TheTurnsOfADownBackendAreSharedByTheOthers) {
  BackendPool pool(backends({1, 1, 1}), Balance::kRoundRobin, {.rise = 1, .fall = 1});
  ASSERT_TRUE(pool.check_result(pool.at(2), false));
  std::map<std::size_t, int> count;
  for (int i = 0; i < 3000; ++i) ++count[pick(pool, kClient, 0)];
  EXPECT_EQ(count[2], 0);
  EXPECT_NEAR(count[0], 1500, 150);
  EXPECT_NEAR(count[1], 1500, 150);
}

TEST(RoundRobin, RetriesAwayFromADeadBackendAreSharedByTheOthers) {
  // No health checks: the dead backend stays "up" and keeps its turns; the clients that draw it
  // retry, and those retries must not all land on one neighbour.
  BackendPool pool(backends({1, 1, 1}), Balance::kRoundRobin, {.passive = false});
  std::map<std::size_t, int> count;
  for (int i = 0; i < 3000; ++i) ++count[pick(pool, kClient, std::uint64_t{1} << 0)];
  EXPECT_EQ(count[0], 0);
  EXPECT_NEAR(count[1], 1500, 150);
  EXPECT_NEAR(count[2], 1500, 150);
}

TEST(Pick, SkipsTriedBackendsAndGivesNullWhenNoneIsLeft) {
  for (const Balance balance :
       {Balance::kRoundRobin, Balance::kLeastConnections, Balance::kSource}) {
    BackendPool pool(backends({1, 1}), balance, {.rise = 1, .fall = 1});
    std::uint64_t tried = 0;
    Backend* first = pool.pick(kClient, tried);
    ASSERT_NE(first, nullptr);
    Backend* second = pool.pick(kClient, tried);
    ASSERT_NE(second, nullptr);
    EXPECT_NE(second, first);
    EXPECT_EQ(tried, 3u);
    EXPECT_EQ(pool.pick(kClient, tried), nullptr);
    pool.check_result(pool.at(0), false);
    pool.check_result(pool.at(1), false);
    EXPECT_EQ(pick(pool, kClient), pool.size()) << "all down";
  }
}

TEST(LeastConnections, PicksTheFewestPerUnitOfWeight) {
  BackendPool pool(backends({1, 1, 2}), Balance::kLeastConnections, {});
  pool.at(0).active = 3;
  pool.at(1).active = 1;
  pool.at(2).active = 3;  // 1.5 per unit of weight
  EXPECT_EQ(pick(pool, kClient, 0), 1u);
  pool.at(1).active = 2;  // now 2 per unit; backend 2 has 1.5
  EXPECT_EQ(pick(pool, kClient, 0), 2u);
}

TEST(LeastConnections, TiesRotate) {
  BackendPool pool(backends({1, 1, 1}), Balance::kLeastConnections, {});
  std::map<std::size_t, int> count;
  for (int i = 0; i < 30; ++i) ++count[pick(pool, kClient, 0)];
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(count[2], 10);
}

// Sequential short connections tie every time (none open): the ties follow the weights.
TEST(LeastConnections, TiesFollowTheWeights) {
  BackendPool pool(backends({3, 1}), Balance::kLeastConnections, {});
  std::map<std::size_t, int> count;
  for (int i = 0; i < 4000; ++i) {
    const std::size_t chosen = pick(pool, kClient, 0);
    ++count[chosen];
    pool.at(chosen).active = 0;  // the connection ended
  }
  EXPECT_NEAR(count[0], 3000, 200);
  EXPECT_NEAR(count[1], 1000, 200);
}

// Without health checks a dead backend stays "up": about half the sequential clients should
// begin with it, not all -- a retry must not take a turn of the clients' (it did, and with two
// backends every client began with the same one).
TEST(LeastConnections, RetriesAwayFromADeadBackendTakeNoTurn) {
  BackendPool pool(backends({1, 1}), Balance::kLeastConnections, {.passive = false});
  int first_on_dead = 0;
  for (int client = 0; client < 2000; ++client) {
    std::uint64_t tried = 0;
    Backend* first = pool.pick(kClient, tried);
    ASSERT_NE(first, nullptr);
    first->active = 0;  // its connect failed (backend 0), or the connection ended
    if (first != &pool.at(0)) continue;
    ++first_on_dead;
    Backend* retry = pool.pick(kClient, tried);
    ASSERT_EQ(retry, &pool.at(1));
    retry->active = 0;
  }
  EXPECT_NEAR(first_on_dead, 1000, 150);
}

TEST(Source, AClientKeepsItsBackendAndOnlyTheClientsOfADownBackendMove) {
  BackendPool pool(backends({1, 1, 1, 1}), Balance::kSource, {.rise = 1, .fall = 1});
  std::map<std::string, std::size_t> before;
  std::map<std::size_t, int> spread;
  for (int i = 0; i < 1000; ++i) {
    const std::string ip = "172.16." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    const std::size_t chosen = pick(pool, address(ip + ":1000"), 0);
    EXPECT_EQ(pick(pool, address(ip + ":2000"), 0), chosen) << "the port must not matter";
    before[ip] = chosen;
    ++spread[chosen];
  }
  for (std::size_t b = 0; b < 4; ++b) EXPECT_NEAR(spread[b], 250, 60) << b;
  pool.check_result(pool.at(1), false);
  int moved = 0;
  for (const auto& [ip, chosen] : before) {
    const std::size_t now = pick(pool, address(ip + ":1000"), 0);
    if (chosen != 1) {
      EXPECT_EQ(now, chosen) << ip << " moved although its backend is up";
    } else {
      EXPECT_NE(now, 1u);
      ++moved;
    }
  }
  EXPECT_EQ(moved, spread[1]);
}

TEST(Health, FallAndRiseCountConsecutiveVerdicts) {
  BackendPool pool(backends({1}), Balance::kRoundRobin, {.rise = 2, .fall = 3});
  Backend& b = pool.at(0);
  EXPECT_FALSE(pool.check_result(b, false));
  EXPECT_FALSE(pool.check_result(b, false));
  EXPECT_FALSE(pool.check_result(b, true)) << "a success resets the failure count";
  EXPECT_FALSE(pool.check_result(b, false));
  EXPECT_FALSE(pool.check_result(b, false));
  EXPECT_TRUE(pool.check_result(b, false)) << "third in a row: down";
  EXPECT_FALSE(b.up.load());
  EXPECT_FALSE(pool.check_result(b, false)) << "already down: no change to report";
  EXPECT_FALSE(pool.check_result(b, true));
  EXPECT_TRUE(pool.check_result(b, true)) << "second success in a row: up";
  EXPECT_TRUE(b.up.load());
  EXPECT_EQ(pool.up_count(), 1u);
}

TEST(Health, APassiveFailureRestartsTheRiseCount) {
  BackendPool pool(backends({1}), Balance::kRoundRobin, {.rise = 2, .fall = 1});
  Backend& b = pool.at(0);
  for (int i = 0; i < 10; ++i) pool.check_result(b, true);
  EXPECT_TRUE(pool.connect_failed(b));
  EXPECT_FALSE(b.up.load());
  EXPECT_FALSE(pool.check_result(b, true)) << "one good check is not `rise` of them";
  EXPECT_TRUE(pool.check_result(b, true));
}

TEST(Health, FailedConnectsCountOnlyWhenPassiveChecksAreOn) {
  BackendPool passive(backends({1}), Balance::kRoundRobin, {.rise = 1, .fall = 2});
  EXPECT_FALSE(passive.connect_failed(passive.at(0)));
  EXPECT_TRUE(passive.connect_failed(passive.at(0)));
  EXPECT_EQ(passive.at(0).connect_failures.load(), 2u);
  BackendPool off(backends({1}), Balance::kRoundRobin, {.rise = 1, .fall = 1, .passive = false});
  EXPECT_FALSE(off.connect_failed(off.at(0)));
  EXPECT_TRUE(off.at(0).up.load()) << "without health checks nothing could bring it back";
}

TEST(Reload, ABackendAtTheSameAddressIsTakenOverWithItsHealthAndCounters) {
  BackendPool running(backends({1, 1, 1}), Balance::kLeastConnections, {.rise = 1, .fall = 1});
  ASSERT_TRUE(running.check_result(running.at(1), false));  // 10.0.0.1:9002 is down
  running.at(0).connections = 7;
  running.at(2).active = 2;  // connections still relayed to it
  // 9001 stays as it was; 9002 moves to the front; 9003 gets weight 3 and a PROXY header; 9009
  // is new.
  std::vector<BackendSettings> fresh = backends({1, 1, 3});
  std::swap(fresh[0], fresh[1]);
  fresh[2].send_proxy = app::ProxyProtocol::kV2;
  fresh.push_back({address("10.0.0.1:9009"), 1});
  BackendPool reloaded(fresh, Balance::kLeastConnections, {.rise = 1, .fall = 1}, &running);
  ASSERT_EQ(reloaded.size(), 4u);
  EXPECT_EQ(reloaded.kept(), 3u);
  EXPECT_EQ(&reloaded.at(0), &running.at(1)) << "the same backend, though moved";
  EXPECT_FALSE(reloaded.at(0).up.load()) << "a known-down backend stays down";
  EXPECT_EQ(&reloaded.at(1), &running.at(0));
  EXPECT_EQ(reloaded.at(1).connections.load(), 7u) << "counters carry on";
  EXPECT_EQ(&reloaded.at(2), &running.at(2)) << "a new weight is the pool's, not a new backend";
  EXPECT_EQ(reloaded.weight(2), 3u);
  EXPECT_EQ(running.weight(2), 1u) << "the running pool keeps its own weights";
  EXPECT_EQ(reloaded.at(2).send_proxy.load(), app::ProxyProtocol::kV2);
  EXPECT_EQ(reloaded.at(3).name, "10.0.0.1:9009");
  EXPECT_TRUE(reloaded.at(3).up.load());
  EXPECT_EQ(reloaded.at(3).connections.load(), 0u);
  // Its live connections still count: 2 on weight 3 is more per unit than 9001's 0 and 9009's 0,
  // less than 3 on weight 1. Least connections picks 9001 or 9009 first, never 9003.
  for (int i = 0; i < 2; ++i) EXPECT_NE(pick(reloaded, kClient), 2u);
  EXPECT_EQ(running.size(), 3u) << "the running pool is untouched";
}

TEST(Reload, ABackendThatIsDownComesUpWhenItsPoolStopsCheckingIt) {
  BackendPool running(backends({1, 1}), Balance::kRoundRobin, {.rise = 1, .fall = 1});
  ASSERT_TRUE(running.check_result(running.at(0), false));
  BackendPool unchecked(backends({1, 1}), Balance::kRoundRobin,
                        {.rise = 1, .fall = 1, .passive = false, .checked = false}, &running);
  ASSERT_EQ(&unchecked.at(0), &running.at(0));
  EXPECT_TRUE(unchecked.at(0).up.load()) << "nothing would ever bring it back";
  EXPECT_EQ(unchecked.up_count(), 2u);
}

TEST(Reload, OneOldBackendIsTakenOverOnceAtMost) {
  BackendPool running(backends({1}), Balance::kRoundRobin, {});
  std::vector<BackendSettings> twice = backends({1});
  twice.push_back(twice[0]);  // the config refuses this; the pool must not share one Backend
  BackendPool reloaded(twice, Balance::kRoundRobin, {}, &running);
  EXPECT_EQ(reloaded.kept(), 1u);
  EXPECT_NE(&reloaded.at(0), &reloaded.at(1));
}

TEST(Reload, SourceClientsKeepTheirBackendWhenTheListIsReorderedOrGrows) {
  BackendPool running(backends({1, 1, 1}), Balance::kSource, {});
  std::vector<BackendSettings> fresh = backends({1, 1, 1});
  std::swap(fresh[0], fresh[2]);
  fresh.push_back({address("10.0.0.1:9009"), 1});
  BackendPool reloaded(fresh, Balance::kSource, {}, &running);
  int moved = 0;
  for (int i = 0; i < 1000; ++i) {
    const zio::SocketAddress client =
        address("172.16.3." + std::to_string(i % 250) + ":" + std::to_string(1000 + i / 250));
    const std::string before = running.at(pick(running, client)).name;
    const std::string after = reloaded.at(pick(reloaded, client)).name;
    if (after != before) {
      EXPECT_EQ(after, "10.0.0.1:9009") << "a client moved, but not to the new backend";
      ++moved;
    }
  }
  EXPECT_GT(moved, 100) << "the new backend takes its share";
  EXPECT_LT(moved, 400);
}

TEST(Backup, BackupsServeOnlyWhileNoPrimaryCanAndThenByTheBalance) {
  for (const Balance balance :
       {Balance::kRoundRobin, Balance::kLeastConnections, Balance::kSource}) {
    std::vector<BackendSettings> list = backends({1, 1, 1, 1});
    list[2].backup = true;
    list[3].backup = true;
    BackendPool pool(list, balance, {.rise = 1, .fall = 1});
    std::map<std::size_t, int> count;
    for (int i = 0; i < 400; ++i) {
      const zio::SocketAddress client = address("10.9.0." + std::to_string(i % 200) + ":1");
      ++count[pick(pool, client)];
    }
    EXPECT_EQ(count[2] + count[3], 0) << "primaries up: no backup";
    EXPECT_GT(count[0], 50);
    EXPECT_GT(count[1], 50);
    // A retry after both primaries were tried goes to a backup.
    std::uint64_t tried = 0b11;
    Backend* retry = pool.pick(kClient, tried);
    ASSERT_NE(retry, nullptr);
    EXPECT_TRUE(retry == &pool.at(2) || retry == &pool.at(3));
    // Both primaries down: the backups share the clients.
    pool.check_result(pool.at(0), false);
    pool.check_result(pool.at(1), false);
    count.clear();
    for (int i = 0; i < 400; ++i) {
      const zio::SocketAddress client = address("10.9.0." + std::to_string(i % 200) + ":1");
      ++count[pick(pool, client)];
    }
    EXPECT_EQ(count[0] + count[1], 0);
    EXPECT_GT(count[2], 50) << static_cast<int>(balance);
    EXPECT_GT(count[3], 50) << static_cast<int>(balance);
    // One primary back: the backups are left again.
    pool.check_result(pool.at(1), true);
    EXPECT_EQ(pick(pool, kClient), 1u);
  }
}

TEST(Drain, AWeightOfZeroGetsNoNewClientButStaysInThePool) {
  for (const Balance balance :
       {Balance::kRoundRobin, Balance::kLeastConnections, Balance::kSource}) {
    BackendPool pool(backends({0, 2, 1}), balance, {});
    std::map<std::size_t, int> count;
    for (int i = 0; i < 300; ++i) {
      ++count[pick(pool, address("10.8.0." + std::to_string(i % 250) + ":1"))];
    }
    EXPECT_EQ(count[0], 0);
    EXPECT_EQ(count[1] + count[2], 300);
    EXPECT_EQ(pool.size(), 3u);
    BackendPool all_drained(backends({0, 0}), balance, {});
    EXPECT_EQ(pick(all_drained, kClient), all_drained.size()) << "nothing to pick";
  }
}

TEST(MaxConnections, ABackendAtItsLimitIsPassedOverUntilAConnectionEnds) {
  for (const Balance balance : {Balance::kRoundRobin, Balance::kLeastConnections}) {
    std::vector<BackendSettings> list = backends({1, 1});
    list[0].max_connections = 2;
    list[1].max_connections = 1;
    BackendPool pool(list, balance, {});
    std::map<std::size_t, int> count;
    for (int i = 0; i < 3; ++i) ++count[pick(pool, kClient)];
    EXPECT_EQ(count[0], 2);
    EXPECT_EQ(count[1], 1);
    EXPECT_EQ(pick(pool, kClient), pool.size()) << "every backend full";
    EXPECT_EQ(pool.at(0).active.load(), 2);
    pool.at(1).active.fetch_sub(1);  // a connection to it ended
    EXPECT_EQ(pick(pool, kClient), 1u);
  }
}

// By source, a client's backend is its own while it is up: full, it is waited for (the queue),
// not traded for another.
TEST(MaxConnections, ASourceClientWaitsForItsOwnBackendWhileItIsFull) {
  std::vector<BackendSettings> list = backends({1, 1});
  list[0].max_connections = 1;
  list[1].max_connections = 1;
  BackendPool pool(list, Balance::kSource, {});
  const std::size_t own = pick(pool, kClient);
  ASSERT_LT(own, pool.size());
  EXPECT_EQ(pick(pool, kClient), pool.size()) << "moved to the other backend while its own is up";
  zio::SocketAddress other_client;  // a client whose own backend is the other one
  for (int i = 1; i < 100 && other_client.empty(); ++i) {
    const zio::SocketAddress candidate = address("10.9.8." + std::to_string(i) + ":1");
    std::uint64_t tried = 0;
    if (Backend* b = pool.pick(candidate, tried)) {
      if (b != &pool.at(own)) other_client = candidate;
      b->active.fetch_sub(1);
    }
  }
  ASSERT_FALSE(other_client.empty());
  EXPECT_EQ(pick(pool, other_client), 1 - own);
  // A retry (its own backend tried: the connect failed) takes the other, which has room.
  EXPECT_EQ(pick(pool, kClient, std::uint64_t{1} << own), pool.size()) << "the other is full";
  pool.at(1 - own).active.fetch_sub(1);
  EXPECT_EQ(pick(pool, kClient, std::uint64_t{1} << own), 1 - own);
  pool.at(own).active.fetch_sub(1);  // a connection to it ended
  EXPECT_EQ(pick(pool, kClient), own);
}

// A retry is not queued: when the primary it has not tried is full, a backup with room takes it.
TEST(MaxConnections, ARetryGoesToABackupWhenTheUntriedPrimaryIsFull) {
  std::vector<BackendSettings> list = backends({1, 1, 1});
  list[1].max_connections = 1;
  list[2].backup = true;
  BackendPool pool(list, Balance::kRoundRobin, {.checked = false});
  pool.at(1).active.store(1);  // full
  EXPECT_EQ(pick(pool, kClient, 0b001), 2u) << "primary 0 tried, primary 1 full: the backup";
  pool.at(2).active.fetch_sub(1);
  EXPECT_EQ(pick(pool, kClient, 0b000), 0u) << "a first attempt still prefers the primary";
}

// saturated(): what a queue waits out (room comes back when a connection ends), as opposed to
// nothing up (room comes back only with a backend).
TEST(MaxConnections, SaturatedMeansEveryBackendThatCouldTakeAClientIsFull) {
  std::vector<BackendSettings> list = backends({1, 0, 1});
  list[0].max_connections = 1;
  list[2].max_connections = 1;
  list[2].backup = true;
  BackendPool pool(list, Balance::kRoundRobin, {.checked = false});
  EXPECT_FALSE(pool.saturated());
  EXPECT_EQ(pick(pool, kClient), 0u);
  EXPECT_EQ(pick(pool, kClient), pool.size())
      << "a full primary is waited for, not replaced by the backup (HAProxy)";
  EXPECT_FALSE(pool.saturated()) << "the backup has room";
  pool.at(0).up.store(false);
  EXPECT_EQ(pick(pool, kClient), 2u) << "the backup stands in for a primary that is down";
  EXPECT_TRUE(pool.saturated()) << "the backup is up and full; the drained one does not count";
  pool.at(0).up.store(true);
  pool.at(0).active.fetch_sub(1);
  EXPECT_FALSE(pool.saturated());
  pool.at(0).up.store(false);
  EXPECT_TRUE(pool.saturated()) << "the backup is up and full";
  pool.at(2).up.store(false);
  EXPECT_FALSE(pool.saturated()) << "nothing up: no room will come from a connection ending";
  BackendPool unlimited(backends({1}), Balance::kRoundRobin, {});
  EXPECT_EQ(pick(unlimited, kClient), 0u);
  EXPECT_FALSE(unlimited.saturated());
}

TEST(MaxConnections, TheLimitHoldsExactlyUnderConcurrentPicks) {
  // One place, eight threads taking it and giving it back: a check-then-count would let two in.
  std::vector<BackendSettings> list = backends({1});
  list[0].max_connections = 1;
  BackendPool pool(list, Balance::kRoundRobin, {});
  std::atomic<int> holders{0};
  std::atomic<int> most{0};
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::uint64_t tried = 0;
        Backend* b = pool.pick(kClient, tried);
        if (b == nullptr) continue;
        const int now = holders.fetch_add(1) + 1;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        got.fetch_add(1);
        holders.fetch_sub(1);
        b->active.fetch_sub(1);  // given back
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
  EXPECT_GT(got.load(), 0);
  EXPECT_EQ(pool.at(0).active.load(), 0);
}

// Our own shortages are no verdict on a backend; a refusal, a reset or a timeout are.
TEST(BackendPool, LocalShortagesAreToldApartFromBackendFailures) {
  for (const int err : {EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL, EAGAIN}) {
    EXPECT_TRUE(local_shortage(-err)) << err;
  }
  for (const int err : {ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH}) {
    EXPECT_FALSE(local_shortage(-err)) << err;
  }
}

}  // namespace
}  // namespace zap::proxy
