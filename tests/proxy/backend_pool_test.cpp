#include "backend_pool.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

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

TEST(RoundRobin, GivesEachItsWeightPerCycleSpreadOut) {
  BackendPool pool(backends({5, 1, 1}), Balance::kRoundRobin, {});
  std::string order;
  for (int i = 0; i < 7; ++i) order += static_cast<char>('a' + pool.pick(kClient, 0)->index);
  EXPECT_EQ(std::count(order.begin(), order.end(), 'a'), 5);
  EXPECT_EQ(std::count(order.begin(), order.end(), 'b'), 1);
  EXPECT_EQ(std::count(order.begin(), order.end(), 'c'), 1);
  EXPECT_EQ(order.find("aaaa"), std::string::npos) << order << ": not smooth";
}

TEST(RoundRobin, TheTurnsOfADownBackendAreSharedByTheOthers) {
  BackendPool pool(backends({1, 1, 1}), Balance::kRoundRobin, {.rise = 1, .fall = 1});
  ASSERT_TRUE(pool.check_result(pool.at(2), false));
  std::map<std::size_t, int> count;
  for (int i = 0; i < 3000; ++i) ++count[pool.pick(kClient, 0)->index];
  EXPECT_EQ(count[2], 0);
  EXPECT_NEAR(count[0], 1500, 150);
  EXPECT_NEAR(count[1], 1500, 150);
}

TEST(RoundRobin, RetriesAwayFromADeadBackendAreSharedByTheOthers) {
  // No health checks: the dead backend stays "up" and keeps its turns; the clients that draw it
  // retry, and those retries must not all land on one neighbour.
  BackendPool pool(backends({1, 1, 1}), Balance::kRoundRobin, {.passive = false});
  std::map<std::size_t, int> count;
  for (int i = 0; i < 3000; ++i) ++count[pool.pick(kClient, std::uint64_t{1} << 0)->index];
  EXPECT_EQ(count[0], 0);
  EXPECT_NEAR(count[1], 1500, 150);
  EXPECT_NEAR(count[2], 1500, 150);
}

TEST(Pick, SkipsTriedBackendsAndGivesNullWhenNoneIsLeft) {
  for (const Balance balance :
       {Balance::kRoundRobin, Balance::kLeastConnections, Balance::kSource}) {
    BackendPool pool(backends({1, 1}), balance, {.rise = 1, .fall = 1});
    Backend* first = pool.pick(kClient, 0);
    ASSERT_NE(first, nullptr);
    Backend* second = pool.pick(kClient, std::uint64_t{1} << first->index);
    ASSERT_NE(second, nullptr);
    EXPECT_NE(second, first);
    EXPECT_EQ(pool.pick(kClient, 3), nullptr);
    pool.check_result(pool.at(0), false);
    pool.check_result(pool.at(1), false);
    EXPECT_EQ(pool.pick(kClient, 0), nullptr) << "all down";
  }
}

TEST(LeastConnections, PicksTheFewestPerUnitOfWeight) {
  BackendPool pool(backends({1, 1, 2}), Balance::kLeastConnections, {});
  pool.at(0).active = 3;
  pool.at(1).active = 1;
  pool.at(2).active = 3;  // 1.5 per unit of weight
  EXPECT_EQ(pool.pick(kClient, 0)->index, 1u);
  pool.at(1).active = 2;  // now 2 per unit; backend 2 has 1.5
  EXPECT_EQ(pool.pick(kClient, 0)->index, 2u);
}

TEST(LeastConnections, TiesRotate) {
  BackendPool pool(backends({1, 1, 1}), Balance::kLeastConnections, {});
  std::map<std::size_t, int> count;
  for (int i = 0; i < 30; ++i) ++count[pool.pick(kClient, 0)->index];
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(count[2], 10);
}

TEST(Source, AClientKeepsItsBackendAndOnlyTheClientsOfADownBackendMove) {
  BackendPool pool(backends({1, 1, 1, 1}), Balance::kSource, {.rise = 1, .fall = 1});
  std::map<std::string, std::size_t> before;
  std::map<std::size_t, int> spread;
  for (int i = 0; i < 1000; ++i) {
    const std::string ip = "172.16." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    const std::size_t chosen = pool.pick(address(ip + ":1000"), 0)->index;
    EXPECT_EQ(pool.pick(address(ip + ":2000"), 0)->index, chosen) << "the port must not matter";
    before[ip] = chosen;
    ++spread[chosen];
  }
  for (std::size_t b = 0; b < 4; ++b) EXPECT_NEAR(spread[b], 250, 60) << b;
  pool.check_result(pool.at(1), false);
  int moved = 0;
  for (const auto& [ip, chosen] : before) {
    const std::size_t now = pool.pick(address(ip + ":1000"), 0)->index;
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

}  // namespace
}  // namespace zap::proxy
