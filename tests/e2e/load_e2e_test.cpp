// End-to-end tests of zap-load's raw mode (send only, count bytes) and of its failure when
// nothing listens. The echo-mode runs are in echo_e2e_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon.hpp"
#include "process.hpp"
#include "test_client.hpp"

namespace zap::e2e {
namespace {

// A loopback TCP socket on a kernel-chosen port, closed at the end of the test.
class LoopbackSocket {
 public:
  LoopbackSocket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind 127.0.0.1:0 failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~LoopbackSocket() { ::close(fd_); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  int fd() const { return fd_; }
  const std::string& address() const { return address_; }

 private:
  int fd_;
  std::string address_;
};

// With --json -, stdout is the JSON document alone (the table goes to stderr): a null value
// (not an object) if it is anything else.
nlohmann::json json_report(const std::string& out) {
  return nlohmann::json::parse(out, nullptr, false);
}

// zap-load (its target prepended to `args`) against a loopback peer that takes one connection and
// runs `serve` on it (then closes it). A zap-load that never connects does not leave the peer
// waiting in accept.
RunResult run_against_peer(const std::function<void(int fd)>& serve,
                           std::vector<std::string> args) {
  LoopbackSocket listener;
  if (::listen(listener.fd(), 4) != 0) throw std::runtime_error("listen failed");
  std::thread peer([&] {
    const int fd = ::accept(listener.fd(), nullptr, nullptr);
    if (fd < 0) return;
    serve(fd);
    ::close(fd);
  });
  args.insert(args.begin(), listener.address());
  const RunResult run = run_to_exit(load_binary(), args);
  if (run.code != 0) ::shutdown(listener.fd(), SHUT_RDWR);  // unblock accept if zap-load failed
  peer.join();
  return run;
}

// Raw mode against zap-echo: zap-load only sends, so the echo daemon's counters are the check
// that every byte arrived. At the end zap-load half-closes and discards the echoes until the
// daemon closes: before it did, it closed with echoes unread, the kernel sent RST and zap-echo
// lost up to a socket buffer of what zap-load had reported as sent.
TEST(LoadRaw, EveryByteSentReachesEchoAndTheReportSaysSo) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                     "runtime": {"workers": 2}})");
  constexpr std::uint64_t kRequests = 800;
  constexpr std::uint64_t kSize = 256;
  const RunResult run = run_to_exit(
      load_binary(), {echo.address(), "--mode", "raw", "-c", "4", "-s", std::to_string(kSize), "-n",
                      std::to_string(kRequests), "-w", "2", "--no-progress", "--json", "-"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;

  // The table on stderr, the JSON report on stdout.
  EXPECT_NE(run.err.find("zap-load raw: " + echo.address() + ", 4 connection(s), 256-byte"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("requests         800 ("), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("errors           0"), std::string::npos) << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["mode"], "raw");
  EXPECT_EQ(report["requests"], kRequests);
  EXPECT_EQ(report["errors"], 0);
  EXPECT_EQ(report["connections_failed"], 0);
  EXPECT_GT(report["mb_per_s_out"].get<double>(), 0.0);
  // Every echoed byte was drained before the close: the same count in as out.
  EXPECT_EQ(report["mb_per_s_in"].get<double>(), report["mb_per_s_out"].get<double>());

  EXPECT_TRUE(echo.wait_for_stat("bytes_in", kRequests * kSize)) << echo.stats().dump();
  EXPECT_TRUE(echo.wait_for_stat("connections_open", 0)) << echo.stats().dump();
  const auto stats = echo.stats();
  EXPECT_EQ(stats["bytes_out"], kRequests * kSize);
  EXPECT_EQ(stats["connections_total"], 4);
  EXPECT_EQ(stats["errors"], 0) << "a connection was reset";
  Socket client = Socket::connect(echo.address());
  const std::string data = pattern(4096, 9);
  ASSERT_TRUE(client.send_all(data));
  EXPECT_EQ(client.recv_exact(data.size()), data);
  client = Socket();
  EXPECT_EQ(echo.stop(), 0);
}

// Raw mode against a sink that reads and counts: an exact byte count over a volume larger than
// any socket buffer, so that a lost or duplicated send shows.
TEST(LoadRaw, ASinkReceivesExactlyRequestsTimesSize) {
  LoopbackSocket listener;
  ASSERT_EQ(::listen(listener.fd(), 16), 0);
  constexpr int kConnections = 3;
  std::atomic<std::uint64_t> received{0};
  std::thread sink([&] {
    std::vector<std::thread> readers;
    for (int i = 0; i < kConnections; ++i) {
      const int fd = ::accept(listener.fd(), nullptr, nullptr);
      if (fd < 0) break;
      readers.emplace_back([fd, &received] {
        char buffer[65536];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
          received.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        }
        ::close(fd);
      });
    }
    for (auto& reader : readers) reader.join();
  });
  const RunResult run = run_to_exit(
      load_binary(), {listener.address(), "--mode", "raw", "-c", std::to_string(kConnections), "-s",
                      "10000", "-n", "3000", "-w", "1", "--no-progress"});
  if (run.code != 0) ::shutdown(listener.fd(), SHUT_RDWR);  // unblock accept if zap-load failed
  sink.join();
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_EQ(received.load(), 3000u * 10000u);
  EXPECT_NE(run.out.find("requests         3000 ("), std::string::npos) << run.out;
}

// Nothing listens on the port (bound, not listening: no one else can take it meanwhile).
TEST(LoadRaw, AClosedPortExitsNonZeroSayingConnectionRefused) {
  LoopbackSocket closed;
  for (const char* mode : {"raw", "echo"}) {
    const RunResult run =
        run_to_exit(load_binary(), {closed.address(), "--mode", mode, "-c", "2", "-n", "10", "-w",
                                    "1", "--no-progress", "--json", "-"});
    EXPECT_EQ(run.code, 1) << mode << "\n" << run.out << run.err;
    EXPECT_NE(run.err.find("first: connect: Connection refused"), std::string::npos)
        << mode << "\n"
        << run.out << run.err;
    EXPECT_NE(run.err.find("failed conns     2"), std::string::npos) << mode << "\n" << run.err;
    const auto report = json_report(run.out);
    ASSERT_TRUE(report.is_object()) << run.out;
    EXPECT_EQ(report["requests"], 0);
    EXPECT_EQ(report["connections_failed"], 2);
    EXPECT_EQ(report["first_error"], "connect: Connection refused");
    // Without -k a failed connection ends its slot: one connect error each, no retry.
    EXPECT_EQ(report["errors"], 2);
    EXPECT_EQ(report["error_kinds"]["connect"], 2) << report.dump();
    EXPECT_EQ(report["error_kinds"]["read"], 0);
    EXPECT_NE(run.err.find("(connect 2, read 0, write 0, timeout 0)"), std::string::npos)
        << run.err;
  }
}

// Connection churn (-k): every request on a connection of its own, and every echoed byte still
// checked; zap-echo saw each of those connections.
TEST(LoadChurn, ANewConnectionPerRequestVerifiesEveryByte) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                      "runtime": {"workers": 1}})");
  const RunResult run =
      run_to_exit(load_binary(), {echo.address(), "-c", "4", "-k", "1", "-s", "100", "-n", "400",
                                  "-w", "1", "--no-progress", "--json", "-"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["requests"], 400);
  EXPECT_EQ(report["verify_failures"], 0);
  EXPECT_GE(report["connects"].get<std::uint64_t>(), 400u);
  EXPECT_LE(report["connects"].get<std::uint64_t>(), 404u) << "one extra per connection at most";
  EXPECT_TRUE(echo.wait_for_stat("connections_total", report["connects"].get<std::uint64_t>()));
  // Three requests a connection, two in flight: the third waits for the first's reply, and the
  // connection closes only with every reply in.
  const RunResult three = run_to_exit(
      load_binary(),
      {echo.address(), "-c", "2", "-k", "3", "-p", "2", "-n", "300", "-w", "1", "--no-progress"});
  EXPECT_EQ(three.code, 0) << three.out << three.err;
  EXPECT_NE(three.out.find("a new one after every 3 request(s)"), std::string::npos) << three.out;
  const RunResult raw = run_to_exit(load_binary(), {echo.address(), "--mode", "raw", "-k", "1"});
  EXPECT_NE(raw.code, 0);
  EXPECT_NE(raw.err.find("--requests-per-connection: echo mode only"), std::string::npos)
      << raw.err;
}

// Under -k a failed connection is counted and its slot opens another, as wrk does: a refused
// connect is retried (after a short pause) until the run's time is up (or, in a request-count
// run, until 100 in a row have failed), and connections that a full server closes on arrival do
// not stop the others' requests, whose bytes still all verify.
TEST(LoadChurn, AFailedConnectionIsCountedAndReplaced) {
  LoopbackSocket closed;
  const RunResult refused =
      run_to_exit(load_binary(), {closed.address(), "-c", "2", "-k", "1", "-d", "1", "-w", "1",
                                  "--no-progress", "--json", "-"});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  const auto report = json_report(refused.out);
  ASSERT_TRUE(report.is_object()) << refused.out;
  EXPECT_EQ(report["requests"], 0);
  // 2 slots x 1 s with a 10 ms pause between attempts: far more than one attempt each, and not
  // a busy loop (which would make tens of thousands).
  const auto attempts = report["error_kinds"]["connect"].get<std::uint64_t>();
  EXPECT_GE(attempts, 20u) << report.dump();
  EXPECT_LE(attempts, 2u * 110u) << report.dump();
  EXPECT_EQ(report["errors"].get<std::uint64_t>(), attempts);
  // A request-count run has no deadline: each slot gives up after 100 failures in a row.
  const RunResult counted =
      run_to_exit(load_binary(), {closed.address(), "-c", "2", "-k", "1", "-n", "1000", "-w", "1",
                                  "--no-progress", "--json", "-"});
  EXPECT_EQ(counted.code, 1) << counted.out << counted.err;
  const auto gave_up = json_report(counted.out);
  ASSERT_TRUE(gave_up.is_object()) << counted.out;
  EXPECT_EQ(gave_up["error_kinds"]["connect"], 200) << gave_up.dump();

  // One connection at a time: zap-echo closes the others at once (FIN), mid-request.
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
                      "max_connections": 1, "runtime": {"workers": 1}})");
  const RunResult crowded =
      run_to_exit(load_binary(), {echo.address(), "-c", "6", "-k", "1", "-s", "100", "-d", "1",
                                  "-w", "1", "--no-progress", "--json", "-"});
  EXPECT_EQ(crowded.code, 1) << crowded.out << crowded.err;
  const auto busy = json_report(crowded.out);
  ASSERT_TRUE(busy.is_object()) << crowded.out;
  EXPECT_GT(busy["requests"].get<std::uint64_t>(), 10u) << busy.dump();
  EXPECT_EQ(busy["verify_failures"], 0);
  const auto& kinds = busy["error_kinds"];
  EXPECT_GT(busy["errors"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(busy["errors"].get<std::uint64_t>(),
            kinds["connect"].get<std::uint64_t>() + kinds["read"].get<std::uint64_t>() +
                kinds["write"].get<std::uint64_t>() + kinds["timeout"].get<std::uint64_t>())
      << busy.dump();
  EXPECT_GT(busy["connects"].get<std::uint64_t>(), busy["requests"].get<std::uint64_t>())
      << "refused connections were replaced";
}

// More in flight than the socket buffers hold -- a 16 MiB message, or 256 x 64 KiB pipelined --
// must not stall: zap-load reads replies whenever the socket takes no more. (It sent a whole
// batch before reading, zap-echo stopped reading while its replies waited, and both waited for
// the timeout.) Raw mode against an echo server likewise reads and drops what comes back.
TEST(LoadEcho, MoreInFlightThanTheSocketBuffersHoldDoesNotStall) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "runtime": {"workers": 1}})");
  const std::vector<std::vector<std::string>> runs = {
      {"-c", "1", "-s", "16777216", "-n", "3"},
      {"-c", "2", "-s", "65536", "-p", "256", "-n", "1000"},
      {"--mode", "raw", "-c", "2", "-s", "1000000", "-n", "64"}};
  for (const auto& flags : runs) {
    std::vector<std::string> args = {echo.address(), "-w",   "1", "--no-progress", "--json", "-",
                                     "--timeout-ms", "10000"};
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult run = run_to_exit(load_binary(), args);
    EXPECT_EQ(run.code, 0) << flags[3] << "\n" << run.out << run.err;
    const auto report = json_report(run.out);
    ASSERT_TRUE(report.is_object()) << run.out;
    EXPECT_EQ(report["requests"], std::stoull(flags[flags.size() - 1])) << report.dump();
    EXPECT_EQ(report["errors"], 0) << report.dump();
    EXPECT_EQ(report["verify_failures"], 0);
  }
}

// --json -: stdout is one JSON document (the table goes to stderr); a report that cannot be
// written is an error, not silence.
TEST(LoadReport, JsonOnStdoutIsOneDocumentAndAnUnwritableFileFails) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "runtime": {"workers": 1}})");
  const RunResult piped = run_to_exit(
      load_binary(), {echo.address(), "-c", "2", "-n", "100", "--no-progress", "--json", "-"});
  EXPECT_EQ(piped.code, 0) << piped.err;
  EXPECT_TRUE(json_report(piped.out).is_object()) << "stdout is not one JSON document:\n"
                                                  << piped.out;
  EXPECT_NE(piped.err.find("requests         100 ("), std::string::npos) << piped.err;
  TempDir dir;
  const std::string nowhere = dir.path("missing-dir/report.json");
  const RunResult lost = run_to_exit(
      load_binary(), {echo.address(), "-c", "2", "-n", "100", "--no-progress", "--json", nowhere});
  EXPECT_EQ(lost.code, 1);
  EXPECT_NE(lost.err.find("--json " + nowhere + ": No such file or directory"), std::string::npos)
      << lost.err;
}

// At a fixed rate the connections take turns: 64 connections at 100/s for 2 s send ~200
// requests (their due times spread over each 0.64 s interval), not 4 rounds of all 64 at once
// (256).
TEST(LoadRate, AFixedRateIsSpreadOverTheConnections) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "runtime": {"workers": 1}})");
  const RunResult run =
      run_to_exit(load_binary(), {echo.address(), "-c", "64", "-r", "100", "-d", "2", "-w", "1",
                                  "--no-progress", "--json", "-"});
  EXPECT_EQ(run.code, 0) << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  const auto requests = report["requests"].get<std::uint64_t>();
  EXPECT_GE(requests, 170u) << report.dump();
  EXPECT_LE(requests, 205u) << report.dump();
}

// At a fixed rate, a server that stalls holds the connection's next messages back: those due
// before the end and never sent are reported, not left out (the latency of the one that went
// shows only part of the stall).
TEST(LoadRate, MessagesAStallHeldBackAreReportedUnsent) {
  const auto stall_once = [](int fd) {
    char buffer[4096];
    bool stalled = false;
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      if (!stalled) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      stalled = true;
      if (::send(fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
    }
  };
  const RunResult run = run_against_peer(
      stall_once, {"-c", "1", "-r", "100", "-d", "1", "-w", "1", "--no-progress", "--json", "-"});
  EXPECT_EQ(run.code, 0) << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["requests"], 1) << report.dump();
  // 100 due within the second, one sent; the last 10 ms are not counted (a timer's lateness
  // there is not the server's).
  EXPECT_EQ(report["requests_unsent"], 98) << report.dump();
  EXPECT_NE(run.err.find("unsent requests  98 (due before the end"), std::string::npos) << run.err;
}

// At a fixed rate a pipeline with room does not wait for a reply before the next message falls
// due: against a server that answers each message 200 ms late, -r 50 -p 100 sends one message
// every 20 ms (not a burst per reply), and nothing is "unsent".
TEST(LoadRate, DueMessagesGoWhileRepliesAreOutstanding) {
  const auto echo_200ms_late = [](int fd) {
    std::mutex lock;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> pending;
    std::atomic<bool> done{false};
    std::thread sender([&] {
      while (!done) {
        std::string out;
        {
          const std::lock_guard guard(lock);
          while (!pending.empty() && pending.front().first <= std::chrono::steady_clock::now()) {
            out += pending.front().second;
            pending.pop_front();
          }
        }
        if (!out.empty() && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      const std::lock_guard guard(lock);
      pending.emplace_back(std::chrono::steady_clock::now() + std::chrono::milliseconds(200),
                           std::string(buffer, static_cast<std::size_t>(n)));
    }
    done = true;
    sender.join();
  };
  const RunResult run = run_against_peer(
      echo_200ms_late,
      {"-c", "1", "-r", "50", "-p", "100", "-d", "1", "-w", "1", "--no-progress", "--json", "-"});
  EXPECT_EQ(run.code, 0) << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  // 50 due; waiting for each reply sent ~41 in bursts and left ~9 unsent. A timer late by more
  // than the 10 ms slack at the very end (a loaded machine) may cost one or two.
  EXPECT_GE(report["requests"].get<std::uint64_t>(), 46u) << report.dump();
  EXPECT_LE(report["requests_unsent"].get<std::uint64_t>(), 2u) << report.dump();
}

// Raw mode's end: a peer that keeps talking after the last message is drained for the timeout
// at most (in all, not per read), then closed -- zap-load does not wait on it forever.
TEST(LoadRaw, APeerThatNeverStopsTalkingDoesNotHoldTheEnd) {
  const auto chatty = [](int fd) {
    const std::string noise(100, 'n');
    char buffer[4096];
    for (;;) {
      while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
      }
      if (::send(fd, noise.data(), noise.size(), MSG_NOSIGNAL) < 0) break;  // closed: done
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  const auto start = std::chrono::steady_clock::now();
  const RunResult run =
      run_against_peer(chatty, {"--mode", "raw", "-c", "1", "-s", "100", "-n", "5", "--timeout-ms",
                                "1000", "-w", "1", "--no-progress"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_LT(took, std::chrono::seconds(10)) << "held by a peer that never stops";
}

// SIGINT stops sending, lets the replies in flight come back, and still prints the results (as
// wrk does); the run's duration is up to the last reply, not the signal's.
TEST(LoadSignals, SigintPrintsTheResultsSoFar) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "runtime": {"workers": 1}})");
  Process load(load_binary(), {echo.address(), "-c", "4", "-d", "60", "-w", "1", "--json", "-"});
  // A progress line (once a second) means replies are coming and the signals are taken.
  ASSERT_TRUE(load.wait_for_log("req/s", kDeadline)) << load.err();
  load.signal(SIGINT);
  ASSERT_EQ(load.wait(kDeadline), std::optional<int>(0)) << load.err();
  const auto report = json_report(load.out());
  ASSERT_TRUE(report.is_object()) << load.out() << load.err();
  EXPECT_GT(report["requests"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(report["errors"], 0);
  EXPECT_LT(report["duration_s"].get<double>(), 30.0) << report.dump();
  EXPECT_NE(load.err().find("sending no more"), std::string::npos) << load.err();
}

// The reply timeout runs from the last whole reply, not from the last byte: a server that
// trickles its reply a byte every 300 ms is cut at the 500 ms timeout, and the run ends near its
// duration. (Each byte restarted the wait: a 0.5 s run took 5 s, with no error.)
TEST(LoadTimeout, ATricklingReplyIsCutAtTheTimeoutNotHeldByEachByte) {
  const auto trickle = [](int fd) {
    char buffer[64];
    if (::recv(fd, buffer, sizeof buffer, 0) <= 0) return;
    for (int i = 0; i < 16; ++i) {
      if (::send(fd, buffer + i, 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  };
  const auto start = std::chrono::steady_clock::now();
  const RunResult run =
      run_against_peer(trickle, {"-c", "1", "-s", "16", "-d", "0.5", "--timeout-ms", "500", "-w",
                                 "1", "--no-progress", "--json", "-"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.code, 1) << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out << run.err;
  EXPECT_EQ(report["requests"], 0) << report.dump();
  EXPECT_EQ(report["error_kinds"]["timeout"], 1) << report.dump();
  EXPECT_LT(report["duration_s"].get<double>(), 1.5) << report.dump();
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

// -n with -r: the run ends once the count is used up, not when every connection's next due time
// has come (-c 8 -r 1: connection 7's first message is due 7 s in), and its duration is that
// of the requests it made.
TEST(LoadRate, ARequestCountEndsTheRunOnceItIsUsedUp) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "runtime": {"workers": 1}})");
  const auto start = std::chrono::steady_clock::now();
  const RunResult run = run_to_exit(load_binary(), {echo.address(), "-c", "8", "-r", "1", "-n", "1",
                                                    "-w", "1", "--no-progress", "--json", "-"});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["requests"], 1);
  EXPECT_LT(report["duration_s"].get<double>(), 0.5) << report.dump();
  EXPECT_LT(took, std::chrono::seconds(3));
}

// An echo server sends back exactly what it got: bytes past the last reply (a message echoed
// twice) are an error, and wrong bytes in a reply cut short by a close are a verify failure --
// both went unseen (exit 0, "verify failures 0").
TEST(LoadEcho, BytesPastTheLastReplyAndWrongBytesInACutReplyAreCaught) {
  const auto twice = [](int fd) {
    char buffer[64];
    std::size_t got = 0;
    while (got < sizeof buffer) {
      const ssize_t n = ::recv(fd, buffer + got, sizeof buffer - got, 0);
      if (n <= 0) return;
      got += static_cast<std::size_t>(n);
    }
    std::string reply(buffer, sizeof buffer);
    reply += reply;  // one send: both copies arrive together
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
    while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
    }
  };
  const RunResult doubled = run_against_peer(
      twice, {"-c", "1", "-n", "1", "-s", "64", "-w", "1", "--no-progress", "--json", "-"});
  EXPECT_EQ(doubled.code, 1) << doubled.err;
  EXPECT_NE(doubled.err.find("the server sent 64 byte(s) more than it was sent"), std::string::npos)
      << doubled.err;
  const auto report = json_report(doubled.out);
  ASSERT_TRUE(report.is_object()) << doubled.out;
  EXPECT_EQ(report["requests"], 1);
  EXPECT_EQ(report["error_kinds"]["read"], 1) << report.dump();

  const auto garbled_then_closed = [](int fd) {
    char buffer[64];
    if (::recv(fd, buffer, sizeof buffer, 0) <= 0) return;
    (void)::send(fd, "HTTP/1.1 400", 12, MSG_NOSIGNAL);  // not an echo, and short of 64 bytes
  };
  const RunResult cut = run_against_peer(
      garbled_then_closed,
      {"-c", "1", "-n", "1", "-s", "64", "-w", "1", "--no-progress", "--json", "-"});
  EXPECT_EQ(cut.code, 1) << cut.err;
  const auto cut_report = json_report(cut.out);
  ASSERT_TRUE(cut_report.is_object()) << cut.out;
  EXPECT_EQ(cut_report["verify_failures"], 1) << cut_report.dump();
  EXPECT_EQ(cut_report["requests_lost"], 1) << cut_report.dump();
}

// -k at a fixed rate: the next connection opens when its message falls due, not at once to sit
// idle until then -- where a server's idle timeout (300 ms here, against messages 500 ms apart
// per connection) closed it under zap-load, and a run with no fault failed.
TEST(LoadChurn, AtAFixedRateTheNextConnectionOpensWhenItsMessageIsDue) {
  EchoDaemon echo(R"({"listeners": [{"port": 0}], "idle_timeout_ms": 300,
                      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 1}})");
  const RunResult run =
      run_to_exit(load_binary(), {echo.address(), "-c", "2", "-k", "1", "-r", "4", "-d", "2", "-w",
                                  "1", "--no-progress", "--json", "-"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  const auto report = json_report(run.out);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["errors"], 0) << report.dump();
  const auto requests = report["requests"].get<std::uint64_t>();
  EXPECT_GE(requests, 7u) << report.dump();
  EXPECT_EQ(report["connects"].get<std::uint64_t>(), requests) << "none opened for nothing";
}

// Raw mode only sends: a peer that half-closes (it will send nothing) but goes on reading is no
// failure, and takes every byte. (Its FIN was taken for the connection's end.)
TEST(LoadRaw, APeerThatHalfClosesButReadsOnTakesEverything) {
  std::atomic<std::uint64_t> received{0};
  const auto half_closed_sink = [&received](int fd) {
    ::shutdown(fd, SHUT_WR);
    // Late to read: zap-load's sends fill the socket, and it reads while it waits for room.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      received += static_cast<std::uint64_t>(n);
    }
  };
  const RunResult run = run_against_peer(
      half_closed_sink,
      {"--mode", "raw", "-c", "1", "-n", "256", "-s", "65536", "-w", "1", "--no-progress"});
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_EQ(received.load(), 256u * 65536u);
}

}  // namespace
}  // namespace zap::e2e
