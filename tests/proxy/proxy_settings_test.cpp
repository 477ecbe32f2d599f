#include "proxy_settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "config_error.hpp"

namespace zap::proxy {
namespace {

// Loads `json` as a config file (and `extra` flags) the way zap-proxy does.
ProxySettings load(const std::string& json, std::vector<std::string> extra = {}) {
  char path[] = "/tmp/zap-proxy-settings-XXXXXX";
  const int fd = ::mkstemp(path);
  ::close(fd);
  std::ofstream(path) << json;
  CLI::App cli;
  ProxyFlags flags;
  add_proxy_flags(cli, flags);
  std::vector<std::string> args = {"zap-proxy", "--config", path};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  cli.parse(static_cast<int>(argv.size()), argv.data());
  struct Remove {
    const char* p;
    ~Remove() { ::unlink(p); }
  } remove{path};
  return load_proxy_settings(flags);
}

TEST(ProxySettings, ReadsBackendsBalanceAndHealthChecks) {
  const ProxySettings s = load(R"({
    "listeners": [{"port": 0}],
    "backends": [{"host": "10.0.0.2", "port": 8080, "weight": 3}, {"port": 8081}],
    "balance": "least_connections",
    "health_check": {"interval_ms": 500, "rise": 1},
    "retries": 0, "idle_timeout_ms": 1000})");
  ASSERT_EQ(s.pools[0].backends.size(), 2u);
  EXPECT_EQ(s.pools[0].backends[0].address.to_string(), "10.0.0.2:8080");
  EXPECT_EQ(s.pools[0].backends[0].weight, 3);
  EXPECT_EQ(s.pools[0].backends[1].address.to_string(), "127.0.0.1:8081");
  EXPECT_EQ(s.pools[0].balance, Balance::kLeastConnections);
  EXPECT_EQ(s.pools[0].health_check.interval_ms, 500);
  EXPECT_EQ(s.pools[0].health_check.rise, 1);
  EXPECT_EQ(s.pools[0].health_check.fall, 3);
  EXPECT_EQ(s.limits.retries, 0);
}

TEST(ProxySettings, FlagsReplaceBackendsAndTurnChecksOff) {
  const ProxySettings s =
      load(R"({"backends": [{"port": 1}]})", {"--backend", "127.0.0.1:7", "--backend", "[::1]:8",
                                              "--no-health-check", "--balance", "source"});
  ASSERT_EQ(s.pools[0].backends.size(), 2u);
  EXPECT_EQ(s.pools[0].backends[1].address.to_string(), "[::1]:8");
  EXPECT_FALSE(s.pools[0].health_check.enabled);
  EXPECT_EQ(s.pools[0].balance, Balance::kSource);
}

TEST(ProxySettings, SendProxyIsEveryBackendsDefaultUnlessOneSetsItsOwn) {
  const ProxySettings none = load(R"({"backends": [{"port": 1}]})");
  EXPECT_EQ(none.pools[0].backends[0].send_proxy, app::ProxyProtocol::kOff);
  EXPECT_EQ(none.proxy_protocol, std::vector<bool>{false});  // the default listener's
  const ProxySettings accepting =
      load(R"({"listeners": [{"port": 0, "proxy_protocol": true}, {"port": 0}],
               "backends": [{"port": 1}]})");
  EXPECT_EQ(accepting.proxy_protocol, (std::vector<bool>{true, false}));
  const ProxySettings s = load(R"({"send_proxy": "v2",
    "backends": [{"port": 1}, {"port": 2, "send_proxy": "v1"}, {"port": 3, "send_proxy": "off"}]})");
  EXPECT_EQ(s.pools[0].backends[0].send_proxy, app::ProxyProtocol::kV2);
  EXPECT_EQ(s.pools[0].backends[1].send_proxy, app::ProxyProtocol::kV1);
  EXPECT_EQ(s.pools[0].backends[2].send_proxy, app::ProxyProtocol::kOff);
  // --backend takes the config's send_proxy; --send-proxy sets every backend's.
  const ProxySettings flag_backends =
      load(R"({"send_proxy": "v1", "backends": [{"port": 1}]})", {"--backend", "127.0.0.1:7"});
  EXPECT_EQ(flag_backends.pools[0].backends[0].send_proxy, app::ProxyProtocol::kV1);
  const ProxySettings flag = load(R"({"backends": [{"port": 1}, {"port": 2, "send_proxy": "v1"}]})",
                                  {"--send-proxy", "v2"});
  EXPECT_EQ(flag.pools[0].backends[0].send_proxy, app::ProxyProtocol::kV2);
  EXPECT_EQ(flag.pools[0].backends[1].send_proxy, app::ProxyProtocol::kV2);
}

TEST(ProxySettings, ListenersPickTheirPools) {
  const ProxySettings s = load(R"({
    "listeners": [{"port": 0}, {"port": 0, "pool": "db"}, {"port": 0, "pool": "cache"}],
    "backends": [{"port": 80}],
    "pools": [{"name": "db", "backends": [{"port": 5432}], "balance": "least_connections",
               "health_check": {"enabled": false}, "send_proxy": "v2"},
              {"name": "cache", "backends": [{"port": 11211}, {"port": 11212}]}]})");
  ASSERT_EQ(s.pools.size(), 3u);
  EXPECT_EQ(s.pools[0].name, "default");
  EXPECT_EQ(s.pools[1].name, "db");
  EXPECT_EQ(s.pools[1].balance, Balance::kLeastConnections);
  EXPECT_FALSE(s.pools[1].health_check.enabled);
  EXPECT_EQ(s.pools[1].backends[0].send_proxy, app::ProxyProtocol::kV2);
  EXPECT_EQ(s.pools[2].backends.size(), 2u);
  EXPECT_EQ(s.pools[2].balance, Balance::kRoundRobin) << "a pool's own default, not the top's";
  EXPECT_EQ(s.listener_pool, (std::vector<std::size_t>{0, 1, 2}));
  // No listener uses the default pool: it needs no backends.
  const ProxySettings only_db = load(R"({"listeners": [{"port": 0, "pool": "db"}],
    "pools": [{"name": "db", "backends": [{"port": 5432}]}]})");
  EXPECT_TRUE(only_db.pools[0].backends.empty());
  // --no-health-check and --send-proxy apply to every pool.
  const ProxySettings flags =
      load(R"({"backends": [{"port": 1}], "pools": [{"name": "p", "backends": [{"port": 2}]}]})",
           {"--no-health-check", "--send-proxy", "v1"});
  for (const PoolSettings& pool : flags.pools) {
    EXPECT_FALSE(pool.health_check.enabled);
    EXPECT_EQ(pool.backends[0].send_proxy, app::ProxyProtocol::kV1);
  }
}

TEST(ProxySettings, ListenersRouteTlsByServerName) {
  const ProxySettings s = load(R"({"listeners": [{"port": 1, "sni_routes": [
        {"names": ["Example.COM", "*.example.com"], "pool": "web"},
        {"names": ["db.test"], "pool": "default"}]}, {"port": 2}],
      "backends": [{"port": 80}], "pools": [{"name": "web", "backends": [{"port": 81}]}]})");
  ASSERT_EQ(s.sni_routes.size(), 2u);
  ASSERT_EQ(s.sni_routes[0].size(), 2u);
  EXPECT_EQ(s.sni_routes[0][0].names, (std::vector<std::string>{"example.com", "*.example.com"}));
  EXPECT_EQ(s.sni_routes[0][0].pool, 1u);
  EXPECT_EQ(s.sni_routes[0][1].pool, 0u);
  EXPECT_TRUE(s.sni_routes[1].empty());
  using app::error_of;
  EXPECT_EQ(error_of([] {
              load(R"({"backends": [{"port": 80}],
                       "listeners": [{"port": 1, "sni_routes": [{"names": ["a_b"], "pool": "default"}]}]})");
            }),
            "listeners[0].sni_routes[0].names[0]: expected a server name like \"example.com\" or "
            "\"*.example.com\", got \"a_b\"");
  EXPECT_EQ(error_of([] {
              load(R"({"backends": [{"port": 80}], "listeners": [{"port": 1, "sni_routes": [
                  {"names": ["a.test"], "pool": "default"}, {"names": ["A.test"], "pool": "default"}]}]})");
            }),
            "listeners[0].sni_routes[1].names[0]: \"a.test\" is routed twice");
  EXPECT_EQ(error_of([] {
              load(R"({"backends": [{"port": 80}],
                       "listeners": [{"port": 1, "sni_routes": [{"names": ["a.test"], "pool": "nope"}]}]})");
            }),
            "listeners[0].sni_routes[0].pool: no pool named \"nope\"");
  EXPECT_EQ(error_of([] {
              load(R"({"backends": [{"port": 80}],
                       "listeners": [{"port": 1, "sni_routes": [{"names": ["a.test"]}]}]})");
            }),
            "listeners[0].sni_routes[0].pool: required: the pool these names go to");
  // A route to the default pool is a use of it: it needs backends.
  EXPECT_NE(error_of([] {
              load(R"({"pools": [{"name": "web", "backends": [{"port": 81}]}],
                       "listeners": [{"port": 1, "pool": "web", "sni_routes": [{"names": ["a.test"],
                                                                   "pool": "default"}]}]})");
            }).find("backends: at least one backend is required"),
            std::string::npos);
}

TEST(ProxySettings, MistakesNameTheirPath) {
  using app::error_of;
  EXPECT_EQ(
      error_of([] { load("{}"); }),
      "backends: at least one backend is required (in the config, or --backend ip:port), for the "
      "default pool that a listener uses");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 0}]})"); }),
            "backends[0].port: expected integer 1-65535, got 0");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 80, "weight": 257}]})"); }),
            "backends[0].weight: expected integer 0-256, got 257");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 80}, {"port": 81}, {"port": 80}]})"); }),
            "backends[2].port: 127.0.0.1:80 is listed twice (use \"weight\")");
  EXPECT_EQ(error_of([] {
              load("{}", {"--backend", "127.0.0.1:7", "--backend", "127.0.0.1:7"});
            }),
            "--backend: 127.0.0.1:7 is given twice");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 80}], "balance": "random"})"); }),
            "balance: expected one of \"round_robin\", \"least_connections\", \"source\", got "
            "\"random\"");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 80}], "health_check": {"rize": 1}})"); }),
            "health_check.rize: unknown key");
  EXPECT_EQ(error_of([] { load(R"({"backends": [{"port": 80, "send_proxy": "v3"}]})"); }),
            "backends[0].send_proxy: expected one of \"off\", \"v1\", \"v2\", got \"v3\"");
  EXPECT_EQ(error_of([] { load(R"({"listeners": [{"port": 0, "pool": "db"}]})"); }),
            "listeners[0].pool: no pool named \"db\"");
  EXPECT_EQ(error_of([] {
              load(R"({"listeners": [{"port": 0, "pool": "db"}], "pools": [{"name": "db"}]})");
            }),
            "pools[0].backends: expected at least one backend");
  EXPECT_EQ(error_of([] {
              load(R"({"backends": [{"port": 1}],
                       "pools": [{"name": "default", "backends": [{"port": 2}]}]})");
            }),
            "pools[0].name: \"default\" is taken");
  EXPECT_EQ(
      error_of([] {
        load(
            R"({"backends": [{"port": 1}], "pools": [{"name": "Db", "backends": [{"port": 2}]}]})");
      }),
      "pools[0].name: expected 1-64 of a-z 0-9 _ -, got \"Db\"");
  EXPECT_EQ(
      error_of([] { load(R"({"pools": [{"name": "db", "backends": [{"port": 2}]}]})"); }),
      "backends: at least one backend is required (in the config, or --backend ip:port), for the "
      "default pool that a listener uses");
  EXPECT_EQ(
      error_of([] {
        load(R"({"backends": [{"port": 1}], "pools": [{"name": "db", "backends": [{"port": 2}]},
                       {"name": "db", "backends": [{"port": 3}]}]})");
      }),
      "pools[1].name: \"db\" is taken");
  EXPECT_EQ(error_of([] {
              load(R"({"listeners": [{"port": 0, "pool": "db"}],
                       "pools": [{"name": "db", "backends": [{"port": 2}]}]})",
                   {"--backend", "127.0.0.1:9"});
            }),
            "--backend and --balance set the default pool, which no listener uses");
  // 64 named pools besides the default are the most.
  auto pools = [](int n) {
    std::string json = R"({"backends": [{"port": 1}], "pools": [)";
    for (int i = 0; i < n; ++i) {
      json += (i ? "," : "") + std::string(R"({"name": "p)") + std::to_string(i) +
              R"(", "backends": [{"port": 2}]})";
    }
    return json + "]}";
  };
  EXPECT_EQ(load(pools(64)).pools.size(), 65u);
  EXPECT_EQ(error_of([&] { load(pools(65)); }), "pools: at most 64 pools");
  std::string many = R"({"backends": [)";
  for (int i = 1; i <= 65; ++i)
    many += (i > 1 ? "," : "") + std::string(R"({"port": )") + std::to_string(i) + "}";
  EXPECT_EQ(error_of([&] { load(many + "]}"); }), "backends: at most 64 backends");
}

TEST(ProxySettings, EachPoolHasItsOwnQueueTimeout) {
  const ProxySettings s = load(R"({"backends": [{"port": 8080}], "queue_timeout_ms": 250,
      "max_queue": 16,
      "pools": [{"name": "db", "backends": [{"port": 5432}]}]})");
  EXPECT_EQ(s.pools[0].queue_timeout_ms, 250);
  EXPECT_EQ(s.pools[1].queue_timeout_ms, 0) << "not copied from the top level";
  EXPECT_EQ(s.pools[0].max_queue, 16);
  EXPECT_EQ(s.pools[1].max_queue, 0);
  EXPECT_EQ(
      app::error_of([] { load(R"({"backends": [{"port": 8080}], "queue_timeout_ms": -1})"); }),
      "queue_timeout_ms: expected integer 0-3600000, got -1");
}

TEST(ProxySettings, BufferSizesDefaultTo16KiBGrowingTo64KiB) {
  const ProxySettings defaults = load(R"({"backends": [{"port": 8080}]})");
  EXPECT_EQ(defaults.buffer_size, 16384);
  EXPECT_EQ(defaults.max_buffer_size, 65536);
  const ProxySettings s =
      load(R"({"backends": [{"port": 8080}], "buffer_size": 4096, "max_buffer_size": 1048576})");
  EXPECT_EQ(s.buffer_size, 4096);
  EXPECT_EQ(s.max_buffer_size, 1048576);
  EXPECT_EQ(
      app::error_of([] { load(R"({"backends": [{"port": 8080}], "max_buffer_size": 1023})"); }),
      "max_buffer_size: expected integer 1024-16777216, got 1023");
}

// The config lives in /tmp: a relative connection_log is beside it, and the file is opened at
// load (as --check does); --connection-log overrides it, "off" turns it off.
TEST(ProxySettings, TheConnectionLogIsRelativeToTheConfigAndOpenedAtLoad) {
  const std::string name = "zap-proxy-settings-" + std::to_string(::getpid()) + ".log";
  const ProxySettings s =
      load(R"({"backends": [{"port": 8080}], "connection_log": ")" + name + "\"}");
  EXPECT_EQ(s.connection_log, "/tmp/" + name);
  EXPECT_EQ(::access(("/tmp/" + name).c_str(), F_OK), 0) << "created by the probe";
  ::unlink(("/tmp/" + name).c_str());
  EXPECT_EQ(load(R"({"backends": [{"port": 8080}], "connection_log": "x.log"})",
                 {"--connection-log", "off"})
                .connection_log,
            "");
  EXPECT_EQ(load(R"({"backends": [{"port": 8080}]})").connection_log, "") << "off by default";
  EXPECT_EQ(app::error_of([] {
              load(R"({"backends": [{"port": 8080}], "connection_log": "/nonexistent-dir/c.log"})");
            }),
            "connection_log: cannot open \"/nonexistent-dir/c.log\": No such file or directory");
}

}  // namespace
}  // namespace zap::proxy
