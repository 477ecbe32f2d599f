// End-to-end tests of zap-echo and zap-load: real daemons on 127.0.0.1 with ports from the
// kernel (port 0 + --port-file), driven by blocking clients with deadlines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon.hpp"
#include "listen_backlog.hpp"
#include "process.hpp"
#include "test_client.hpp"

namespace zap::e2e {
namespace {

using Clock = std::chrono::steady_clock;

void expect_echo(Socket& socket, std::size_t size, unsigned seed) {
  const std::string data = pattern(size, seed);
  ASSERT_TRUE(socket.send_all(data));
  EXPECT_EQ(socket.recv_exact(data.size()), data);
}

// --- zap-load against zap-echo, both io backends ---------------------------------------------

class LoadAgainstEcho : public ::testing::TestWithParam<std::string> {};

TEST_P(LoadAgainstEcho, EveryEchoedByteVerifies) {
  const std::string backend = GetParam();
  const std::string config = R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
      "runtime": {"workers": 2, "io_backend": ")" +
                             backend + R"("}})";
  std::unique_ptr<EchoDaemon> echo;
  try {
    echo = std::make_unique<EchoDaemon>(config);
  } catch (const std::exception& e) {
    if (backend == "io_uring" && std::string(e.what()).find("io_uring") != std::string::npos) {
      GTEST_SKIP() << "io_uring unavailable here: " << e.what();
    }
    throw;
  }
  // Small pipelined messages, then large ones (many partial reads and sends on both sides).
  const RunResult small = run_to_exit(
      load_binary(), {echo->address(), "-c", "16", "-s", "100", "-p", "4", "-n", "20000", "-w", "2",
                      "--io-backend", backend, "--no-progress", "--json", "-"});
  ASSERT_EQ(small.code, 0) << small.out << small.err;
  const auto json_start = small.out.find('{');
  ASSERT_NE(json_start, std::string::npos);
  const auto report = nlohmann::json::parse(small.out.substr(json_start));
  EXPECT_EQ(report["requests"], 20000);
  EXPECT_EQ(report["errors"], 0);
  EXPECT_EQ(report["verify_failures"], 0);

  const RunResult large =
      run_to_exit(load_binary(), {echo->address(), "-c", "4", "-s", "300000", "-p", "2", "-n",
                                  "200", "--io-backend", backend, "--no-progress"});
  ASSERT_EQ(large.code, 0) << large.out << large.err;
  EXPECT_NE(large.out.find("verify failures  0"), std::string::npos) << large.out;

  // One 64 KiB message at a time: zap-echo sends it back in pieces of its buffer, and without
  // TCP_NODELAY each piece smaller than a segment (loopback's are ~64 KiB) would wait for
  // zap-load's delayed ACK -- 40 ms or more per message, every time. A functional check, not a
  // benchmark: the median is far below that stall however loaded the machine.
  const RunResult one_by_one =
      run_to_exit(load_binary(), {echo->address(), "-c", "1", "-s", "65536", "-n", "40",
                                  "--io-backend", backend, "--no-progress", "--json", "-"});
  ASSERT_EQ(one_by_one.code, 0) << one_by_one.out << one_by_one.err;
  const auto nagle = nlohmann::json::parse(one_by_one.out.substr(one_by_one.out.find('{')));
  EXPECT_LT(nagle["latency_us"]["p50"].get<double>(), 20'000.0) << nagle.dump();

  const std::uint64_t total = 20000ull * 100 + 200ull * 300000 + 40ull * 65536;
  EXPECT_TRUE(echo->wait_for_stat("bytes_out", total));
  const auto stats = echo->stats();
  EXPECT_EQ(stats["bytes_in"], total);
  EXPECT_EQ(stats["connections_total"], 21);
  EXPECT_EQ(stats["errors"], 0);
  EXPECT_EQ(echo->stop(), 0);
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }
INSTANTIATE_TEST_SUITE_P(Backends, LoadAgainstEcho, ::testing::Values("epoll", "io_uring"),
                         backend_name);

// zap-load must fail when bytes come back wrong: a server that flips one bit in each reply.
TEST(LoadE2E, ExitsNonZeroWhenAnEchoedByteIsWrong) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread corrupter([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      buffer[0] ^= 0x01;
      if (::send(fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::close(fd);
  });
  const RunResult result =
      run_to_exit(load_binary(), {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "-c", "1",
                                  "-s", "64", "-n", "50", "-w", "1", "--no-progress"});
  corrupter.join();
  ::close(listener);
  EXPECT_NE(result.code, 0);
  EXPECT_EQ(result.out.find("verify failures  0"), std::string::npos) << result.out;
}

// --- configs ------------------------------------------------------------------------------

TEST(EchoConfig, ABadValueExitsNonZeroNamingItsJsonPath) {
  TempDir dir;
  const auto config = dir.write(
      "bad.json", R"({"listeners": [{"port": 0}, {"host": "127.0.0.1", "port": "80a"}]})");
  for (const bool check : {false, true}) {
    std::vector<std::string> args = {"--config", config};
    if (check) args.push_back("--check");
    const RunResult r = run_to_exit(echo_binary(), args);
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find(R"(listeners[1].port: expected integer 0-65535, got "80a")"),
              std::string::npos)
        << r.err;
  }
}

TEST(EchoConfig, CheckAcceptsTheExampleAndRejectsMistakes) {
  const RunResult good =
      run_to_exit(echo_binary(), {"--config", configs_dir() + "/echo.json", "--check"});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_NE(good.out.find("is valid"), std::string::npos);

  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"runtime": {"wokers": 2}})", "runtime.wokers: unknown key"},
      {R"({"max_connections": "many"})",
       R"(max_connections: expected integer 1-10000000, got "many")"},
      {R"({"listeners": [{"host": "localhost", "port": 1}]})",
       "listeners[0].host: expected a numeric"},
      {R"({"accept": "sometimes"})", R"(accept: expected one of "per_worker", "shared")"},
      {R"({"max_buffer_size": 63})", "max_buffer_size: expected integer 64-16777216, got 63"},
      {R"({"runtime": {"cpus": "0-"}})", "runtime.cpus:"},
      {R"({"admin": {"listen": "nowhere"}})", "admin.listen:"},
      {R"({"log": {"level": "loud"}})", "log.level: expected one of"},
      {"{\"listeners\": [", "invalid JSON"},
      {R"({"max_connections": 5, "runtime": {"workers": 1}, "max_connections": 6})",
       "max_connections: given twice"},
      {R"({"listeners": [{"port": 1}, {"port": 2, "host": "::1", "port": 3}]})",
       "listeners[1].port: given twice"},
      {R"({"listeners": [{"port": 7007}, {"port": 7008}, {"port": 7007}]})",
       "listeners[2].port: 127.0.0.1:7007 is already listeners[0]"},
      {R"({"listeners": [{"port": 7007, "protocol": "udp"}, {"port": 7007},
                         {"port": 7007, "protocol": "udp"}]})",
       "listeners[2].port: 127.0.0.1:7007 is already listeners[0]"},
  };
  for (const auto& [text, message] : cases) {
    const RunResult bad =
        run_to_exit(echo_binary(), {"--config", dir.write("c.json", text), "--check"});
    EXPECT_NE(bad.code, 0) << text;
    EXPECT_NE(bad.err.find(message), std::string::npos) << text << " -> " << bad.err;
  }
  // A missing file: one line, like any config error.
  const RunResult missing =
      run_to_exit(echo_binary(), {"--config", dir.path("missing.json"), "--check"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("missing.json: cannot open config file: No such file"),
            std::string::npos)
      << missing.err;
  // What would stop the daemon at start stops --check too: one address given twice on the
  // command line, a log file that cannot be opened. A missing log directory is not created.
  const RunResult twice = run_to_exit(
      echo_binary(), {"--listen", "127.0.0.1:7007", "--listen", "127.0.0.1:7007", "--check"});
  EXPECT_EQ(twice.code, 1);
  EXPECT_NE(twice.err.find("--listen: 127.0.0.1:7007 is given twice"), std::string::npos)
      << twice.err;
  const RunResult clash = run_to_exit(
      echo_binary(), {"--listen", "127.0.0.1:7007", "--admin", "127.0.0.1:7007", "--check"});
  EXPECT_EQ(clash.code, 1);
  EXPECT_NE(clash.err.find("admin.listen: 127.0.0.1:7007 is also a listener"), std::string::npos)
      << clash.err;
  const std::string no_dir = dir.path("no-such-dir");
  for (const bool check : {true, false}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--log-file", no_dir + "/e.log"};
    if (check) args.push_back("--check");
    const RunResult unopenable = run_to_exit(echo_binary(), args);
    EXPECT_EQ(unopenable.code, 1) << unopenable.out;
    EXPECT_NE(unopenable.err.find("log.file: cannot open \"" + no_dir +
                                  "/e.log\": No such file or directory"),
              std::string::npos)
        << unopenable.err;
    EXPECT_FALSE(std::filesystem::exists(no_dir)) << "the log's directory was created";
  }
}

// A flag's mistakes name the flag, not the config key it overrides. An empty value (an unset
// variable in a service file) is refused rather than taken as no flag, which would leave the
// config's value in force without a word.
TEST(EchoConfig, FlagErrorsNameTheFlagAndAnEmptyValueIsRefused) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--cpus", "1000"}, "--cpus: \"1000\" names no CPU of this machine"},
      {{"--cpus", "3-x"}, "--cpus: expected a CPU list like \"0-3,8\""},
      {{"--cpus", ""}, "--cpus: an empty value (leave --cpus out to keep runtime.cpus)"},
      {{"--log-file", ""}, "--log-file: an empty value"},
      {{"--admin", ""}, "--admin: an empty value (off: no admin endpoint)"},
      {{"--port-file", ""}, "--port-file: an empty value"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--check"};
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult bad = run_to_exit(echo_binary(), args);
    EXPECT_EQ(bad.code, flags.front() == "--cpus" && flags.back() != "" ? 1 : 105) << flags[0];
    EXPECT_NE(bad.err.find(message), std::string::npos) << flags[0] << " -> " << bad.err;
  }
  const RunResult good =
      run_to_exit(echo_binary(), {"--listen", "127.0.0.1:0", "--cpus", "0", "--check"});
  EXPECT_EQ(good.code, 0) << good.err;
}

TEST(EchoConfig, HelpAndVersionAnswer) {
  const RunResult help = run_to_exit(echo_binary(), {"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("127.0.0.1:7000"), std::string::npos) << help.out;
  const RunResult version = run_to_exit(echo_binary(), {"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.out.find("zap-echo"), std::string::npos);
}

// --- signals ------------------------------------------------------------------------------

TEST(EchoSignals, SigtermLetsAnInFlightEchoFinishThenExitsZero) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "shutdown_grace_ms": 15000,
                     "runtime": {"workers": 2}})");
  Socket client = Socket::connect(echo.address());
  ASSERT_TRUE(client.valid());
  const std::string data = pattern(512 * 1024, 7);
  const std::size_t first = 256 * 1024;
  const std::size_t second = 64 * 1024;
  ASSERT_TRUE(client.send_all(data.substr(0, first)));
  ASSERT_EQ(client.recv_exact(first), data.substr(0, first));
  ASSERT_TRUE(client.send_all(data.substr(first, second)));  // in flight when the signal comes

  const auto signalled = Clock::now();
  echo.process().signal(SIGTERM);
  ASSERT_TRUE(echo.process().wait_for_log("waiting up to", kDeadline)) << echo.process().err();
  EXPECT_TRUE(echo.process().running()) << "exited with a connection still open";
  EXPECT_FALSE(Socket::connect(echo.address()).valid()) << "still accepting after SIGTERM";

  ASSERT_TRUE(client.send_all(data.substr(first + second)));
  client.shutdown_write();
  const Socket::Drained rest = client.recv_until_closed();
  EXPECT_TRUE(rest.closed);
  EXPECT_FALSE(rest.reset);
  EXPECT_TRUE(rest.data == data.substr(first)) << rest.data.size() << " bytes back";
  EXPECT_EQ(echo.process().wait(kDeadline), 0) << echo.process().err();
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(15)) << "waited for the whole grace";
}

TEST(EchoSignals, GracePeriodClosesConnectionsThatDoNotFinish) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "shutdown_grace_ms": 300})");
  Socket idle = Socket::connect(echo.address());
  expect_echo(idle, 1000, 1);
  const auto stopped = echo.stop();
  EXPECT_EQ(stopped, 0) << echo.process().err();
  EXPECT_NE(echo.process().err().find("grace period over"), std::string::npos);
  EXPECT_TRUE(idle.recv_until_closed().closed);
}

TEST(EchoSignals, SighupReloadsLogLevelAndLimits) {
  const std::string before = R"({"listeners": [{"port": 0}], "max_connections": 100,
                                 "log": {"level": "info"}})";
  EchoDaemon echo(before);
  echo.rewrite_config(R"({"listeners": [{"port": 0}], "max_connections": 1,
                          "log": {"level": "debug"}})");
  echo.process().signal(SIGHUP);
  EXPECT_TRUE(echo.process().wait_for_log(
      "reload: applied log.level info -> debug, max_connections 100 -> 1", kDeadline))
      << echo.process().err();

  Socket first = Socket::connect(echo.address());
  expect_echo(first, 100, 2);
  Socket second = Socket::connect(echo.address());
  ASSERT_TRUE(second.valid());
  const Socket::Drained refused = second.recv_until_closed();
  EXPECT_TRUE(refused.closed && refused.data.empty()) << "the reloaded limit is not in force";
  EXPECT_TRUE(
      echo.process().wait_for_log("max_connections (1) reached, refusing a connection", kDeadline))
      << "a refusal must be seen in the log, not only counted: " << echo.process().err();

  echo.rewrite_config(R"({"max_connections": "lots"})");
  echo.process().signal(SIGHUP);
  EXPECT_TRUE(echo.process().wait_for_log("keeping the running config", kDeadline));
  expect_echo(first, 100, 3);

  // The log's rotation sizes need a restart, and the report says so; it is an info line even
  // when the level hides info (not an "error" line because the level is error).
  echo.rewrite_config(R"({"listeners": [{"port": 0}], "max_connections": 1,
                          "log": {"level": "error", "max_size_mb": 5, "max_files": 9}})");
  echo.process().signal(SIGHUP);
  EXPECT_TRUE(echo.process().wait_for_log(
      "info [zap-echo] reload: applied log.level debug -> error; changed but needs a restart: "
      "log.max_size_mb, log.max_files",
      kDeadline))
      << echo.process().err();
  first = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// The listen backlog follows max_connections (at least 1024, capped by somaxconn), also when
// SIGHUP changes it; and a SIGHUP that raises max_connections past the descriptor limit says so.
TEST(EchoSignals, SighupMovesTheListenBacklogAndRechecksTheDescriptorLimit) {
  const std::uint32_t cap = somaxconn();
  if (cap <= 1024) GTEST_SKIP() << "net.core.somaxconn " << cap << " caps every backlog at 1024";
  const std::uint32_t small = std::min<std::uint32_t>(cap, 1500);
  const std::uint32_t large = std::min<std::uint32_t>(cap, 3000);
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "max_connections": 1500,
                      "runtime": {"workers": 2}})");
  const std::uint16_t port = port_of(echo.address());
  using Backlogs = std::vector<std::uint32_t>;
  EXPECT_EQ(listen_backlogs(AF_INET, port), Backlogs(2, small)) << "one per worker (SO_REUSEPORT)";

  // A hard limit below what 3000 connections need (lowering a child's limit needs no privilege).
  const rlimit lowered{.rlim_cur = 2000, .rlim_max = 2000};
  ASSERT_EQ(::prlimit(echo.process().pid(), RLIMIT_NOFILE, &lowered, nullptr), 0) << "prlimit";
  echo.rewrite_config(R"({"listeners": [{"port": 0}], "max_connections": 3000,
                          "runtime": {"workers": 2}})");
  echo.process().signal(SIGHUP);
  EXPECT_TRUE(echo.process().wait_for_log(
      "max_connections 3000 needs about 3064, but the limit is 2000", kDeadline))
      << echo.process().err();
  EXPECT_EQ(listen_backlogs(AF_INET, port), Backlogs(2, large));

  echo.rewrite_config(R"({"listeners": [{"port": 0}], "max_connections": 10,
                          "runtime": {"workers": 2}})");
  echo.process().signal(SIGHUP);
  ASSERT_TRUE(echo.process().wait_for_log("max_connections 3000 -> 10", kDeadline))
      << echo.process().err();
  EXPECT_EQ(listen_backlogs(AF_INET, port), Backlogs(2, 1024)) << "never below 1024";
  Socket client = Socket::connect(echo.address());
  expect_echo(client, 1000, 1);
  client = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

// --- limits and misbehaving clients -------------------------------------------------------

TEST(EchoLimits, ConnectionsOverTheLimitAreClosedCleanlyAndCounted) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "max_connections": 2,
                     "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  Socket a = Socket::connect(echo.address());
  Socket b = Socket::connect(echo.address());
  expect_echo(a, 1000, 1);
  expect_echo(b, 1000, 2);

  Socket c = Socket::connect(echo.address());
  ASSERT_TRUE(c.valid());
  const Socket::Drained refused = c.recv_until_closed();
  EXPECT_TRUE(refused.closed);
  EXPECT_FALSE(refused.reset) << "refused with a reset, not a clean close";
  EXPECT_TRUE(refused.data.empty());

  expect_echo(a, 50000, 3);
  expect_echo(b, 50000, 4);
  EXPECT_TRUE(echo.wait_for_stat("connections_rejected", 1));
  const auto stats = echo.stats();
  EXPECT_EQ(stats["connections_open"], 2);
  EXPECT_EQ(stats["connections_total"], 2);
  a = Socket();
  b = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

TEST(EchoLimits, AClientThatVanishesMidStreamLeavesTheDaemonHealthy) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "buffer_size": 4096,
                     "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 1}})");
  for (int round = 0; round < 3; ++round) {
    Socket vanishing = Socket::connect(echo.address());
    // Pushes data without reading the echo until both directions are backed up, then resets.
    (void)vanishing.send_all(pattern(8 << 20, 9), std::chrono::milliseconds(300));
    vanishing.abort();
  }
  EXPECT_TRUE(echo.wait_for_stat("connections_open", 0));
  Socket fresh = Socket::connect(echo.address());
  ASSERT_TRUE(fresh.valid());
  expect_echo(fresh, 200000, 5);
  EXPECT_EQ(echo.stats()["connections_open"], 1);
  fresh = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

TEST(EchoLimits, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "idle_timeout_ms": 200})");
  Socket client = Socket::connect(echo.address());
  expect_echo(client, 100, 1);
  const auto idle_since = Clock::now();
  const Socket::Drained closed = client.recv_until_closed(std::chrono::seconds(10));
  EXPECT_TRUE(closed.closed);
  EXPECT_TRUE(closed.data.empty());
  EXPECT_GE(Clock::now() - idle_since, std::chrono::milliseconds(150));
  Socket busy = Socket::connect(echo.address());
  for (unsigned i = 0; i < 5; ++i) {  // activity keeps a connection open past the timeout
    expect_echo(busy, 10, i);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  busy = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

TEST(EchoListeners, SharedAcceptorTcpAndUdpEcho) {
  EchoDaemon echo(R"({"accept": "shared", "runtime": {"workers": 2},
                     "listeners": [{"port": 0}, {"port": 0, "protocol": "udp"}]})");
  std::vector<Socket> clients;
  for (unsigned i = 0; i < 8; ++i) clients.push_back(Socket::connect(echo.address(0)));
  for (unsigned i = 0; i < clients.size(); ++i) expect_echo(clients[i], 30000, i);

  Socket udp = Socket::udp(echo.address(1));
  ASSERT_TRUE(udp.valid());
  const std::string datagram = pattern(1200, 11);
  ASSERT_EQ(::send(udp.fd(), datagram.data(), datagram.size(), 0),
            static_cast<ssize_t>(datagram.size()));
  EXPECT_EQ(udp.recv_exact(datagram.size(), std::chrono::seconds(5)), datagram);
  clients.clear();
  EXPECT_EQ(echo.stop(), 0);
}

TEST(EchoListeners, ThePortFileListsListenersInConfigOrderWhateverTheirProtocol) {
  EchoDaemon echo(R"({"listeners": [{"port": 0, "protocol": "udp"}, {"port": 0},
                                    {"port": 0, "protocol": "udp"}]})");
  for (const std::size_t udp_index : {0u, 2u}) {
    Socket udp = Socket::udp(echo.address(udp_index));
    ASSERT_TRUE(udp.valid());
    ASSERT_EQ(::send(udp.fd(), "dgram", 5, 0), 5);
    EXPECT_EQ(udp.recv_exact(5, std::chrono::seconds(5)), "dgram") << udp_index;
  }
  Socket tcp = Socket::connect(echo.address(1));
  ASSERT_TRUE(tcp.valid()) << "the second listener is the TCP one";
  expect_echo(tcp, 1000, 3);
  tcp = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

// Per-worker listeners are SO_REUSEPORT sockets, which could bind beside another process's
// listener and take part of its connections: a taken address is refused at start, as nginx does.
TEST(EchoListeners, AnAddressAnotherProcessListensOnIsRefused) {
  EchoDaemon first(R"({"listeners": [{"port": 0}, {"port": 0, "protocol": "udp"}]})");
  for (const std::string protocol : {"tcp", "udp"}) {
    const std::string& taken = first.address(protocol == "tcp" ? 0 : 1);
    const std::string port = taken.substr(taken.rfind(':') + 1);
    TempDir dir;
    const std::string config = R"({"listeners": [{"port": )" + port + R"(, "protocol": ")" +
                               protocol + R"("}], "accept": "per_worker"})";
    const RunResult second = run_to_exit(echo_binary(), {"--config", dir.write("c.json", config)});
    EXPECT_NE(second.code, 0) << protocol;
    EXPECT_NE(second.err.find(taken + ": Address already in use"), std::string::npos)
        << protocol << ": " << second.err;
  }
  Socket client = Socket::connect(first.address());
  expect_echo(client, 1000, 1);
  client = Socket();
  EXPECT_EQ(first.stop(), 0);
}

TEST(EchoListeners, Ipv6LoopbackWhenAvailable) {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (probe >= 0) ::close(probe);
  if (!v6) GTEST_SKIP() << "no IPv6 loopback here";
  EchoDaemon echo(R"({"listeners": [{"host": "::1", "port": 0}, {"port": 0}]})");
  EXPECT_EQ(echo.address(0).rfind("[::1]:", 0), 0u) << echo.address(0);
  Socket c6 = Socket::connect(echo.address(0));
  Socket c4 = Socket::connect(echo.address(1));
  expect_echo(c6, 10000, 1);
  expect_echo(c4, 10000, 2);
  c6 = Socket();
  c4 = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

// --- admin endpoint -----------------------------------------------------------------------

TEST(EchoAdmin, StatsAndMetricsAnswerAndJunkIsRefused) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                     "runtime": {"workers": 2}})");
  Socket client = Socket::connect(echo.address());
  expect_echo(client, 1234, 1);
  ASSERT_TRUE(echo.wait_for_stat("bytes_out", 1234));

  const auto stats = echo.stats();
  EXPECT_EQ(stats["connections_open"], 1);
  EXPECT_EQ(stats["bytes_in"], 1234);
  ASSERT_TRUE(stats["workers"].is_array());
  EXPECT_EQ(stats["workers"].size(), 2u);

  const HttpReply metrics = http_get(echo.admin(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE zap_echo_connections_open gauge"), std::string::npos);
  EXPECT_NE(metrics.body.find("zap_echo_bytes_in_total{worker=\"0\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("zap_echo_connections_total{worker=\"0\"}"), std::string::npos);
  EXPECT_EQ(prometheus_text_problems(metrics.body), "") << metrics.body;

  EXPECT_EQ(http_get(echo.admin(), "/nope").status, 404);
  EXPECT_EQ(http_get(echo.admin(), "/stats?pretty=1").status, 200);
  EXPECT_EQ(http_exchange(echo.admin(), "POST /stats HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(http_exchange(echo.admin(), "garbage\r\n\r\n").status, 400);
  EXPECT_EQ(http_exchange(echo.admin(), std::string("\x00\x01\x02\r\n\r\n", 7)).status, 400);
  EXPECT_EQ(http_exchange(echo.admin(), "GET /stats HTTP/1.1\r\nno colon\r\n\r\n").status, 400);
  EXPECT_EQ(
      http_exchange(echo.admin(), "GET /stats HTTP/1.1\r\nX: " + std::string(9000, 'a')).status,
      431);
  const HttpReply head = http_exchange(echo.admin(), "HEAD /stats HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  {
    Socket half = Socket::connect(echo.admin());  // half a request, then gone
    ASSERT_TRUE(half.send_all("GET /sta"));
    half.abort();
  }
  EXPECT_EQ(http_get(echo.admin(), "/stats").status, 200);
  expect_echo(client, 100, 2);
  client = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

// Idle admin clients hold at most 16 descriptors, and as many more are told 503 (Retry-After)
// and closed; the rest are closed at once. So they cannot take the descriptors the echo listener
// needs; once they go, /stats answers again.
TEST(EchoAdmin, IdleAdminClientsAreCappedAndTheDaemonServesOn) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                     "runtime": {"workers": 1}})");
  std::vector<Socket> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(Socket::connect(echo.admin()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int closed = 0;  // looked at well within the 5 s an admin request head may take
  int told_busy = 0;
  for (Socket& s : idle) {
    const Socket::Drained drained = s.recv_until_closed(std::chrono::milliseconds(10));
    if (drained.closed) ++closed;
    if (drained.data.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0) {
      ++told_busy;
      EXPECT_NE(drained.data.find("\r\nRetry-After: 1\r\n"), std::string::npos) << drained.data;
    }
  }
  EXPECT_EQ(closed, 40 - 16) << "idle admin connections past the cap must be closed at once";
  EXPECT_EQ(told_busy, 16) << "the first 16 past the cap are told 503";
  Socket client = Socket::connect(echo.address());
  expect_echo(client, 100, 1);
  idle.clear();
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    answered = http_get(echo.admin(), "/stats").status == 200;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(answered) << "the admin endpoint did not come back once its clients left";
}

// Each worker's placement, on a simulated 2-node x 2-core topology (runnable on any machine with
// CPUs 0-1: node 1's logical CPUs are pinned on real CPUs 0-1).
TEST(EchoAdmin, StatsShowEachWorkersCpuAndNumaNode) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                     "runtime": {"workers": 4, "topology": "node 0: 0-1; node 1: 2-3 on 0-1"}})");
  const auto stats = echo.stats();
  ASSERT_TRUE(stats["workers"].is_array()) << stats.dump();
  ASSERT_EQ(stats["workers"].size(), 4u) << stats.dump();
  const unsigned expected_node[] = {0, 0, 1, 1};
  const unsigned expected_os_cpu[] = {0, 1, 0, 1};
  for (unsigned w = 0; w < 4; ++w) {
    const auto& worker = stats["workers"][w];
    EXPECT_EQ(worker.value("cpu", 99u), w) << worker.dump();
    EXPECT_EQ(worker.value("node", 99u), expected_node[w]) << worker.dump();
    EXPECT_EQ(worker.value("os_cpu", 99u), expected_os_cpu[w]) << worker.dump();
  }
  const HttpReply metrics = http_get(echo.admin(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("# TYPE zap_echo_worker_info gauge"), std::string::npos);
  EXPECT_NE(
      metrics.body.find("zap_echo_worker_info{worker=\"3\",cpu=\"3\",os_cpu=\"1\",node=\"1\"} 1"),
      std::string::npos)
      << metrics.body;
  Socket client = Socket::connect(echo.address());
  expect_echo(client, 100, 1);  // the simulated layout still serves
  client = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

}  // namespace
}  // namespace zap::e2e
