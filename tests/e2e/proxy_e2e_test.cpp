// zap-proxy end to end: real zap-echo backends behind a real zap-proxy on 127.0.0.1 (and, where
// network namespaces can be made, backends on hosts of their own), driven by zap-load and raw
// sockets. Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "client_hello.hpp"
#include "daemon.hpp"
#include "process.hpp"
#include "test_client.hpp"

namespace zap::e2e {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<EchoDaemon> echo_backend(const std::string& listen = "127.0.0.1:0",
                                         const std::string& io_backend = "auto") {
  const auto colon = listen.rfind(':');
  return std::make_unique<EchoDaemon>(
      R"({"listeners": [{"host": ")" + listen.substr(0, colon) + R"(", "port": )" +
      listen.substr(colon + 1) +
      R"(}], "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 1,
      "io_backend": ")" +
      io_backend + R"("}})");
}

// "host:port" -> {"host": "...", "port": N, ...}
std::string backend_json(const std::string& address, int weight = 1) {
  const auto colon = address.rfind(':');
  return R"({"host": ")" + address.substr(0, colon) + R"(", "port": )" + address.substr(colon + 1) +
         R"(, "weight": )" + std::to_string(weight) + "}";
}

std::string proxy_config(const std::vector<std::string>& backends, const std::string& extra = "",
                         const std::string& backend = "auto") {
  std::string list;
  for (const std::string& b : backends) list += (list.empty() ? "" : ", ") + b;
  return R"({"listeners": [{"port": 0}], "backends": [)" + list +
         R"(], "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2, "io_backend": ")" +
         backend + "\"}" + extra + "}";
}

// A loopback port where nothing listens (a connect is refused), held bound (not listening) until
// released for a server to take. Below the ephemeral range (32768 and up by default), so that no
// outgoing connect can pick it as its own port and connect to itself.
class DeadPort {
 public:
  DeadPort() {
    for (int port = 20000 + ::getpid() % 5000; fd_ < 0 && port < 32000; port += 7) {
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not into the daemons we fork
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        address_ = "127.0.0.1:" + std::to_string(port);
      } else {
        release();
      }
    }
  }
  ~DeadPort() { release(); }
  const std::string& address() const { return address_; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string address_;
};

// Connections the proxy relayed to backend `index` (health checks are not counted).
std::uint64_t relayed_to(Daemon& proxy, std::size_t index) {
  return proxy.stats()["backends"][index]["connections"].get<std::uint64_t>();
}

std::uint64_t connections_of(Daemon& echo) {
  return echo.stats().value("connections_total", std::uint64_t{0});
}

// One short echo exchange through `address`; true if the bytes came back.
bool echo_once(const std::string& address, const std::string& text = "ping") {
  Socket s = Socket::connect(address);
  return s.valid() && s.send_all(text) && s.recv_exact(text.size()) == text;
}

template <typename Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class ProxyBackends : public ::testing::TestWithParam<std::string> {};

TEST_P(ProxyBackends, LoadThroughTheProxyVerifiesEveryByteAndReachesEveryBackend) {
  auto a = echo_backend("127.0.0.1:0", GetParam());
  auto b = echo_backend("127.0.0.1:0", GetParam());
  ProxyDaemon proxy(
      proxy_config({backend_json(a->address()), backend_json(b->address())}, "", GetParam()));
  const RunResult load =
      run_to_exit(load_binary(), {proxy.address(), "-c", "16", "-s", "1000", "-p", "2", "-n",
                                  "20000", "--io-backend", GetParam(), "--no-progress"});
  ASSERT_EQ(load.code, 0) << load.out << load.err;
  EXPECT_NE(load.out.find("verify failures  0"), std::string::npos) << load.out;
  EXPECT_EQ(relayed_to(proxy, 0), 8u) << "round robin";
  EXPECT_EQ(relayed_to(proxy, 1), 8u) << "round robin";
  // Bulk, then small messages, then bulk again on one connection: the relay's buffers (and
  // zap-echo's) grow while the stream fills them, shrink back, and grow again; no byte is lost
  // or reordered across those moves.
  {
    Socket mixed = Socket::connect(proxy.address());
    ASSERT_TRUE(mixed.valid());
    for (unsigned round = 0; round < 3; ++round) {
      const std::string bulk = pattern(300'000, round);
      ASSERT_TRUE(mixed.send_all(bulk));
      ASSERT_TRUE(mixed.recv_exact(bulk.size()) == bulk) << "round " << round;
      for (unsigned i = 0; i < 12; ++i) {
        const std::string small = pattern(10 + i, round * 100 + i);
        ASSERT_TRUE(mixed.send_all(small));
        ASSERT_EQ(mixed.recv_exact(small.size()), small) << "round " << round << ", " << i;
      }
    }
  }
  EXPECT_GE(connections_of(*a), 8u);
  const auto stats = proxy.stats();
  EXPECT_EQ(stats["backends"].size(), 2u);
  EXPECT_EQ(stats["errors"], 0);
  EXPECT_EQ(proxy.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProxyBackends, ::testing::Values("epoll", "io_uring"),
                         [](const auto& param_info) { return param_info.param; });

TEST(ProxyBalance, RoundRobinFollowsWeights) {
  auto a = echo_backend();
  auto b = echo_backend();
  ProxyDaemon proxy(proxy_config({backend_json(a->address(), 2), backend_json(b->address(), 1)}));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(echo_once(proxy.address())) << i;
  EXPECT_EQ(relayed_to(proxy, 0), 20u);
  EXPECT_EQ(relayed_to(proxy, 1), 10u);
}

// max_connections on a backend (nginx's max_conns): a full backend gets no new client; with
// none other to go to, the client is closed at once; a place that frees up is taken again.
TEST(ProxyBalance, AFullBackendTakesNoNewClientUntilOneLeaves) {
  auto a = echo_backend();
  const std::string a_port = a->address().substr(a->address().rfind(':') + 1);
  ProxyDaemon proxy(
      proxy_config({R"({"host": "127.0.0.1", "port": )" + a_port + R"(, "max_connections": 1})"}));
  Socket first = Socket::connect(proxy.address());
  ASSERT_TRUE(first.send_all("first"));
  ASSERT_EQ(first.recv_exact(5), "first");
  Socket second = Socket::connect(proxy.address());
  ASSERT_TRUE(second.valid());
  EXPECT_TRUE(second.recv_until_closed(std::chrono::seconds(5)).closed) << "no room: closed";
  EXPECT_EQ(proxy.stats()["backends"][0]["max_connections"], 1);
  first.shutdown_write();
  EXPECT_TRUE(first.recv_until_closed().closed);
  // (The first connection's place frees when the proxy has closed it, a moment after the client
  // saw its end: a try in between is closed too, and counted.)
  EXPECT_TRUE(eventually([&] { return echo_once(proxy.address(), "room again"); }));
  EXPECT_GE(proxy.stats().value("no_backend", std::uint64_t{0}), 1u) << proxy.stats().dump();
  EXPECT_EQ(proxy.stop(), 0);
}

// HAProxy's queue: with "queue_timeout_ms", a client that finds every backend full waits for a
// place instead of being closed -- and is closed once that time is up.
TEST(ProxyBalance, AFullPoolQueuesAClientUntilAPlaceFreesOrItsQueueTimeout) {
  auto a = echo_backend();
  const std::string a_port = a->address().substr(a->address().rfind(':') + 1);
  const std::string limited =
      R"({"host": "127.0.0.1", "port": )" + a_port + R"(, "max_connections": 1})";
  ProxyDaemon proxy(R"({"listeners": [{"port": 0}, {"port": 0, "pool": "short"}],
      "backends": [)" +
                    limited +
                    R"(], "queue_timeout_ms": 60000,
      "pools": [{"name": "short", "backends": [)" +
                    limited + R"(], "queue_timeout_ms": 1000, "max_queue": 1}],
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  Socket first = Socket::connect(proxy.address(0));
  ASSERT_TRUE(first.send_all("first"));
  ASSERT_EQ(first.recv_exact(5), "first");
  Socket second = Socket::connect(proxy.address(0));
  ASSERT_TRUE(second.send_all("second"));
  ASSERT_TRUE(eventually([&] { return proxy.stats()["pools"][0]["queued"] == 1; }))
      << proxy.stats().dump();
  EXPECT_EQ(second.recv_exact(6, std::chrono::milliseconds(200)), "") << "queued, not relayed";
  first.shutdown_write();
  EXPECT_TRUE(first.recv_until_closed().closed);
  EXPECT_EQ(second.recv_exact(6), "second") << "the place went to the queued client";
  EXPECT_EQ(proxy.stats()["pools"][0]["queued"], 0);

  // The other pool (its own counts, the same backend): one holds the place, the next waits a
  // second and is closed; one more, while that one waits, finds the line full (max_queue 1) and
  // is closed at once.
  Socket holder = Socket::connect(proxy.address(1));
  ASSERT_TRUE(holder.send_all("held"));
  ASSERT_EQ(holder.recv_exact(4), "held");
  Socket late = Socket::connect(proxy.address(1));
  const auto start = Clock::now();
  ASSERT_TRUE(eventually([&] { return proxy.stats()["pools"][1]["queued"] == 1; }))
      << proxy.stats().dump();
  Socket extra = Socket::connect(proxy.address(1));
  EXPECT_TRUE(extra.recv_until_closed(std::chrono::seconds(10)).closed);
  EXPECT_TRUE(proxy.wait_for_stat("queue_full", 1));
  const Socket::Drained got = late.recv_until_closed(std::chrono::seconds(10));
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(got.data, "");
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_TRUE(proxy.wait_for_stat("queue_timeouts", 1));
  EXPECT_EQ(proxy.stats().value("no_backend", std::uint64_t{0}), 0u);
  EXPECT_EQ(proxy.stop(), 0);
}

// A queued client that leaves gives its place up: one that resets, always; one that closes its
// side, with "abort_on_close" (HAProxy's option abortonclose). Else they would hold max_queue
// (and a backend connection later) for clients that are gone.
TEST(ProxyBalance, AQueuedClientThatLeavesGivesUpItsPlace) {
  auto a = echo_backend();
  const std::string a_port = a->address().substr(a->address().rfind(':') + 1);
  const std::string limited =
      R"({"host": "127.0.0.1", "port": )" + a_port + R"(, "max_connections": 1})";
  ProxyDaemon proxy(R"({"listeners": [{"port": 0}, {"port": 0, "pool": "patient"}],
      "backends": [)" +
                    limited + R"(], "queue_timeout_ms": 60000, "max_queue": 1,
      "abort_on_close": true,
      "pools": [{"name": "patient", "backends": [)" +
                    limited +
                    R"(], "queue_timeout_ms": 60000, "max_queue": 1}],
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  for (const std::size_t listener : {0, 1}) {
    const std::string at = proxy.address(listener);
    Socket holder = Socket::connect(at);
    ASSERT_TRUE(holder.send_all("held"));
    ASSERT_EQ(holder.recv_exact(4), "held");
    auto queued = [&](int n) { return proxy.stats()["pools"][listener]["queued"] == n; };
    // (Each sends its request first, as most clients do: a leaving must be seen behind it.)
    {  // resets while it waits: gone on either pool
      Socket gone = Socket::connect(at);
      ASSERT_TRUE(gone.send_all("request"));
      ASSERT_TRUE(eventually([&] { return queued(1); })) << proxy.stats().dump();
      gone.abort();
      EXPECT_TRUE(eventually([&] { return queued(0); })) << "a reset client kept its place";
    }
    {  // closes its side while it waits: gone only with abort_on_close (the default pool here)
      Socket half = Socket::connect(at);
      ASSERT_TRUE(half.send_all("request"));
      ASSERT_TRUE(eventually([&] { return queued(1); })) << proxy.stats().dump();
      half.shutdown_write();
      if (listener == 0) {
        EXPECT_TRUE(eventually([&] { return queued(0); })) << "abort_on_close: still queued";
        EXPECT_TRUE(half.recv_until_closed().closed);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_TRUE(queued(1)) << "without abort_on_close a half-closed client keeps its place";
        holder = Socket();  // its place frees: the half-closed client is relayed, and ends
        EXPECT_TRUE(half.recv_until_closed().closed);
        EXPECT_TRUE(eventually([&] { return queued(0); }));
        continue;
      }
    }
    // The place is free for a client that is still there.
    Socket waiting = Socket::connect(at);
    ASSERT_TRUE(waiting.send_all("next"));
    ASSERT_TRUE(eventually([&] { return queued(1); })) << proxy.stats().dump();
    holder.shutdown_write();
    EXPECT_TRUE(holder.recv_until_closed().closed);
    EXPECT_EQ(waiting.recv_exact(4), "next");
  }
  EXPECT_EQ(proxy.stats().value("queue_full", std::uint64_t{0}), 0u) << proxy.stats().dump();
  EXPECT_EQ(proxy.stop(), 0);
}

TEST(ProxyHealth, ADownBackendGetsNothingAndComesBackWhenItListensAgain) {
  auto a = echo_backend();
  DeadPort dead;
  ProxyDaemon proxy(proxy_config(
      {backend_json(a->address()), backend_json(dead.address())},
      R"(, "health_check": {"interval_ms": 50, "timeout_ms": 500, "rise": 2, "fall": 2})"));
  ASSERT_TRUE(eventually([&] { return proxy.stats()["backends"][1]["up"] == false; }))
      << "the refused backend must be marked down";
  ASSERT_TRUE(proxy.process().wait_for_log("is down", kDeadline));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(echo_once(proxy.address())) << i;
  EXPECT_EQ(proxy.stats()["backends"][1]["connections"], 0);

  dead.release();
  auto revived = echo_backend(dead.address());
  ASSERT_TRUE(eventually([&] { return proxy.stats()["backends"][1]["up"] == true; }));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(echo_once(proxy.address())) << i;
  EXPECT_GT(relayed_to(proxy, 1), 0u);
  EXPECT_TRUE(eventually([&] { return connections_of(*revived) > 0; }));
}

TEST(ProxyRetry, AFailedConnectIsRetriedOnAnotherBackend) {
  auto a = echo_backend();
  DeadPort dead;
  ProxyDaemon proxy(proxy_config({backend_json(dead.address()), backend_json(a->address())},
                                 R"(, "health_check": {"enabled": false})"));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(echo_once(proxy.address())) << i;
  const auto stats = proxy.stats();
  EXPECT_EQ(stats["no_backend"], 0);
  EXPECT_EQ(stats["backend_connect_failures"], 5) << "every other connection tried the dead one";
  EXPECT_EQ(stats["backends"][0]["up"], true) << "without checks, nothing marks it down";
}

TEST(ProxyRelay, NoReachableBackendClosesTheClientAtOnce) {
  DeadPort dead;
  ProxyDaemon proxy(proxy_config({backend_json(dead.address())},
                                 R"(, "health_check": {"enabled": false}, "retries": 0)"));
  Socket s = Socket::connect(proxy.address());
  const auto start = Clock::now();
  EXPECT_TRUE(s.recv_until_closed(std::chrono::seconds(5)).closed);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(proxy.wait_for_stat("no_backend", 1));
}

TEST(ProxyRelay, HalfCloseIsPassedOnAndEveryByteComesBack) {
  auto a = echo_backend();
  ProxyDaemon proxy(proxy_config({backend_json(a->address())}));
  Socket s = Socket::connect(proxy.address());
  const std::string data = pattern(4 << 20, 11);
  std::thread writer([&] {
    s.send_all(data, std::chrono::seconds(20));
    s.shutdown_write();  // the echo sees EOF only through the proxy's FIN
  });
  const Socket::Drained back = s.recv_until_closed(std::chrono::seconds(20));
  writer.join();
  EXPECT_TRUE(back.closed);
  EXPECT_FALSE(back.reset);
  EXPECT_EQ(back.data.size(), data.size());
  EXPECT_TRUE(back.data == data) << "relayed bytes differ";
}

// A backend answers, then closes with the client's further bytes unread (so its kernel resets the
// connection), while most of its answer still waits inside the proxy for a slow client. The
// proxy's next write to the backend fails; the answer must still reach the client whole.
TEST(ProxyRelay, AFailedWriteToTheBackendDoesNotCutWhatTheBackendAlreadySent) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t size = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &size);
  const std::string backend_address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  const std::string answer = pattern(64 << 10, 21);
  std::atomic<bool> backend_closed{false};
  std::thread backend([&] {
    const int conn = ::accept(listener, nullptr, nullptr);
    char request[3];
    ::recv(conn, request, sizeof request, MSG_WAITALL);  // "req"; what follows stays unread
    ::send(conn, answer.data(), answer.size(), 0);
    for (int unsent = 1, i = 0; unsent > 0 && i < 500; ++i) {  // all of it handed to the proxy
      ::ioctl(conn, SIOCOUTQ, &unsent);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::close(conn);  // unread input: the kernel answers with a reset
    backend_closed = true;
  });
  ProxyDaemon proxy(
      proxy_config({backend_json(backend_address)}, R"(, "health_check": {"enabled": false})"));
  // A slow, small reader: the answer piles up in the proxy.
  Socket s = Socket::connect_small_reader(proxy.address(), 4096);
  ASSERT_TRUE(s.valid());
  ASSERT_TRUE(s.send_all("req" + std::string(1000, 'u')));
  ASSERT_TRUE(eventually([&] { return backend_closed.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the reset reaches the proxy
  ASSERT_TRUE(s.send_all("more"));  // the proxy's write of this to the backend fails
  const Socket::Drained got = s.recv_until_closed(std::chrono::seconds(10));
  backend.join();
  ::close(listener);
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(got.data.size(), answer.size());
  EXPECT_TRUE(got.data == answer) << "the answer was cut or corrupted";
}

// Waits until the peer has acknowledged every byte sent on `socket` (so that a reset cannot
// destroy them in flight).
void wait_until_delivered(const Socket& socket) {
  for (int unsent = 1, i = 0; unsent > 0 && i < 2500; ++i) {
    ::ioctl(socket.fd(), SIOCOUTQ, &unsent);
    if (unsent > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// A side that resets after its bytes: the other side gets every one of them, then a reset too --
// not a FIN, which would make the cut stream look complete (HAProxy mimics one side's end on the
// other). Both ways.
TEST(ProxyRelay, AResetIsPassedOnAfterTheBytesBeforeIt) {
  Listener backend;
  ProxyDaemon proxy(
      proxy_config({backend_json(backend.address())}, R"(, "health_check": {"enabled": false})"));
  const std::string down = pattern(200 << 10, 31);
  const std::string up = pattern(100 << 10, 32);
  {  // the backend resets
    Socket client = Socket::connect(proxy.address());
    ASSERT_TRUE(client.send_all("go"));
    Socket server = backend.accept();
    ASSERT_EQ(server.recv_exact(2), "go");
    ASSERT_TRUE(server.send_all(down));
    wait_until_delivered(server);
    server.abort();
    const Socket::Drained got = client.recv_until_closed();
    EXPECT_TRUE(got.closed);
    EXPECT_TRUE(got.reset) << "the backend's reset reached the client as a FIN";
    EXPECT_EQ(got.data.size(), down.size());
    EXPECT_TRUE(got.data == down) << "bytes before the reset were lost or changed";
  }
  {  // the client resets
    Socket client = Socket::connect(proxy.address());
    ASSERT_TRUE(client.send_all(up));
    Socket server = backend.accept();
    wait_until_delivered(client);
    client.abort();
    const Socket::Drained got = server.recv_until_closed();
    EXPECT_TRUE(got.closed);
    EXPECT_TRUE(got.reset) << "the client's reset reached the backend as a FIN";
    EXPECT_EQ(got.data.size(), up.size());
    EXPECT_TRUE(got.data == up) << "bytes before the reset were lost or changed";
  }
  {  // the client resets while the proxy writes to it: the write, not a read, sees the reset
    Socket client = Socket::connect(proxy.address());
    const int small = 4096;  // the stream piles up in the proxy, which keeps writing
    ::setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_TRUE(client.send_all("go"));
    Socket server = backend.accept();
    ASSERT_EQ(server.recv_exact(2), "go");
    std::thread stream([&] { server.send_all(pattern(8 << 20, 33), std::chrono::seconds(10)); });
    EXPECT_EQ(client.recv_exact(1000).size(), 1000u);
    client.abort();
    // The first end the backend sees: a reset (hang-up), not a FIN (read side closed alone) --
    // the backend's own sends may take the reset's error, so watch the socket's state.
    pollfd watch{server.fd(), POLLRDHUP, 0};
    ASSERT_EQ(::poll(&watch, 1, 10'000), 1);
    EXPECT_NE(watch.revents & (POLLHUP | POLLERR), 0)
        << "the client's reset reached the backend as a FIN";
    stream.join();  // ended: the proxy stopped taking the stream
  }
}

// A backend that answered, ended its stream with a FIN and closed, then got more bytes from the
// client: its kernel resets them. That reset comes after a clean end, so the client must get the
// whole answer and a FIN, not a reset. The proxy sees the reset before it reads the FIN when the
// answer waits in its buffers for a slow client; the socket's error then is EPIPE (a reset after
// the FIN), which the relay must not take for ECONNRESET.
TEST(ProxyRelay, AResetAfterTheBackendsFinLeavesTheClientAFin) {
  Listener backend;
  ProxyDaemon proxy(
      proxy_config({backend_json(backend.address())}, R"(, "health_check": {"enabled": false})"));
  Socket client = Socket::connect_small_reader(proxy.address(), 4096);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("go"));
  Socket server = backend.accept();
  ASSERT_EQ(server.recv_exact(2), "go");
  // The answer goes out in pieces, each taken by the proxy's kernel before the next, until the
  // proxy's relay has stopped passing it on (its writes to the client are full) and a piece more
  // than its buffer waits unread in its socket: the FIN will wait behind it, unread.
  const std::size_t piece = 64 << 10;
  std::string answer;
  const auto relayed = [&] {
    return proxy.stats()["backends"][0]["bytes_from_backend"].get<std::uint64_t>();
  };
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 1024) << "the proxy never stopped relaying to a client that does not read";
    const std::string more = pattern(piece, 41 + i);
    ASSERT_TRUE(server.send_all(more));
    answer += more;
    wait_until_delivered(server);
    const std::uint64_t before = relayed();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint64_t after = relayed();
    if (after == before && answer.size() > after + (64 << 10) + piece) break;  // 64 KiB: its buffer
  }
  server.shutdown_write();
  tcp_info info{};
  for (int i = 0; i < 2500; ++i) {  // the FIN acknowledged: the proxy's kernel holds it too
    socklen_t size = sizeof info;
    ::getsockopt(server.fd(), IPPROTO_TCP, TCP_INFO, &info, &size);
    if (info.tcpi_state == TCP_FIN_WAIT2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(info.tcpi_state, TCP_FIN_WAIT2) << "the proxy did not take the whole answer";
  { Socket closed = std::move(server); }  // closed for good: later bytes are answered by a reset
  ASSERT_TRUE(client.send_all("more"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the reset reaches the proxy
  const Socket::Drained got = client.recv_until_closed();
  EXPECT_TRUE(got.closed);
  EXPECT_FALSE(got.reset) << "a clean end reached the client as a reset";
  EXPECT_EQ(got.data.size(), answer.size());
  EXPECT_TRUE(got.data == answer) << "the answer was cut or corrupted";
}

TEST(ProxyRelay, AnIdleConnectionIsClosedButAStreamingOneIsNot) {
  auto a = echo_backend();
  ProxyDaemon proxy(proxy_config({backend_json(a->address())}, R"(, "idle_timeout_ms": 300)"));
  Socket idle = Socket::connect(proxy.address());
  ASSERT_TRUE(idle.send_all("x"));
  ASSERT_EQ(idle.recv_exact(1), "x");
  Socket busy = Socket::connect(proxy.address());
  const auto start = Clock::now();
  for (int i = 0; i < 15; ++i) {  // a message every 100 ms for 1.5 s: never idle for 300 ms
    ASSERT_TRUE(busy.send_all("y")) << i;
    ASSERT_EQ(busy.recv_exact(1), "y") << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(idle.recv_until_closed(std::chrono::seconds(1)).closed);
  EXPECT_GT(Clock::now() - start, std::chrono::milliseconds(1400));
}

// The idle timeout is for a connection on which no byte moves, not for a client that reads
// slowly but steadily: the proxy's socket to it says "writable" again only once a good part of
// its (megabytes of) send buffer has drained, which takes such a client longer than the timeout.
// Its stream was cut at ~3.5 of 8 MB -- and ended with a FIN, so it looked complete.
TEST(ProxyRelay, ASlowButSteadyReaderIsNotCutByTheIdleTimeout) {
  Listener backend;
  ProxyDaemon proxy(
      proxy_config({backend_json(backend.address())},
                   R"(, "idle_timeout_ms": 500, "health_check": {"enabled": false})"));
  Socket client = Socket::connect_small_reader(proxy.address(), 8192);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all("go"));
  Socket server = backend.accept();
  ASSERT_EQ(server.recv_exact(2), "go");
  const std::string answer = pattern(8 << 20, 17);
  std::thread sender([&] {
    (void)server.send_all(answer);
    server.shutdown_write();
  });
  std::string got = read_slowly(client, std::chrono::milliseconds(2500));
  const Socket::Drained rest = client.recv_until_closed(std::chrono::seconds(20));
  sender.join();
  got += rest.data;
  EXPECT_FALSE(rest.reset);
  EXPECT_EQ(got.size(), answer.size()) << "the slow reader was cut off";
  EXPECT_TRUE(got == answer) << "the stream was corrupted";
  EXPECT_EQ(proxy.stats()["errors"], 0) << proxy.stats().dump();

  // One that takes nothing is still cut: after one to two idle times.
  Socket stalled = Socket::connect_small_reader(proxy.address(), 8192);
  ASSERT_TRUE(stalled.valid());
  ASSERT_TRUE(stalled.send_all("go"));
  Socket server2 = backend.accept();
  ASSERT_EQ(server2.recv_exact(2), "go");
  std::thread flood([&] { (void)server2.send_all(answer); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const Socket::Drained late = stalled.recv_until_closed(std::chrono::seconds(10));
  EXPECT_TRUE(late.closed);
  EXPECT_LT(late.data.size(), answer.size()) << "a client that read nothing for 2.5 s was kept";
  ::shutdown(server2.fd(), SHUT_RDWR);  // ends the flood's send
  flood.join();
}

// After a reload a new client is not held behind one queued on the old pool, whose backend is
// still full: it goes to the new pool's backend at once. (It waited out the old client's queue
// timeout, 3.4 s here.)
TEST(ProxyReload, ANewClientDoesNotWaitBehindOneQueuedOnTheOldPool) {
  auto a = echo_backend();
  auto b = echo_backend();
  const std::string a_port = a->address().substr(a->address().rfind(':') + 1);
  const std::string rest = R"(, "queue_timeout_ms": 4000, "health_check": {"enabled": false})";
  ProxyDaemon proxy(proxy_config(
      {R"({"host": "127.0.0.1", "port": )" + a_port + R"(, "max_connections": 1})"}, rest));
  Socket holder = Socket::connect(proxy.address());
  ASSERT_TRUE(holder.send_all("held"));
  ASSERT_EQ(holder.recv_exact(4), "held");
  Socket queued = Socket::connect(proxy.address());
  ASSERT_TRUE(queued.send_all("q"));
  ASSERT_TRUE(eventually([&] { return proxy.stats()["pools"][0]["queued"] == 1; }))
      << proxy.stats().dump();
  proxy.rewrite_config(proxy_config({backend_json(b->address())}, rest));
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(proxy.process().wait_for_log("reload: applied", kDeadline)) << proxy.process().err();
  const auto start = Clock::now();
  Socket fresh = Socket::connect(proxy.address());
  ASSERT_TRUE(fresh.send_all("new"));
  EXPECT_EQ(fresh.recv_exact(3, std::chrono::seconds(3)), "new");
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1500)) << "waited behind the old line";
}

TEST(ProxySignals, SigtermLetsARelayedConnectionFinishThenExitsZero) {
  auto a = echo_backend();
  ProxyDaemon proxy(proxy_config({backend_json(a->address())}, R"(, "shutdown_grace_ms": 10000)"));
  Socket s = Socket::connect(proxy.address());
  ASSERT_TRUE(s.send_all("before"));
  ASSERT_EQ(s.recv_exact(6), "before");
  proxy.process().signal(SIGTERM);
  ASSERT_TRUE(proxy.process().wait_for_log("waiting up to", kDeadline));
  EXPECT_FALSE(Socket::connect(proxy.address(), std::chrono::milliseconds(500)).valid())
      << "no longer accepting";
  ASSERT_TRUE(s.send_all("after"));
  EXPECT_EQ(s.recv_exact(5), "after") << "an open connection keeps being relayed";
  s.shutdown_write();
  EXPECT_TRUE(s.recv_until_closed().closed);
  EXPECT_EQ(proxy.process().wait(kDeadline), 0);
}

// SIGHUP applies new pools while connections run: new clients reach the new backends at once, a
// connection relayed before the reload goes on to the backend it had, a backend that stays keeps
// its counters, and the report says what changed. New listeners need a restart, and then the
// pools written for them are not applied either.
TEST(ProxyReload, NewPoolsApplyWithoutDroppingARelayedConnection) {
  auto a = echo_backend();
  auto b = echo_backend();
  const std::string checks = R"(, "health_check": {"interval_ms": 50})";
  ProxyDaemon proxy(proxy_config({backend_json(a->address())}, checks));
  Socket before = Socket::connect(proxy.address());
  ASSERT_TRUE(before.send_all("before"));
  ASSERT_EQ(before.recv_exact(6), "before");

  // a leaves the default pool for a new pool that no listener uses; b takes its place.
  const std::string spare =
      R"(, "pools": [{"name": "spare", "backends": [)" + backend_json(a->address()) + "]}]";
  proxy.rewrite_config(proxy_config({backend_json(b->address())}, checks + spare));
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(proxy.process().wait_for_log(
      "reload: applied pool default changed (0 of 1 backend(s) kept), pool spare added", kDeadline))
      << proxy.process().err();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(echo_once(proxy.address(), "to b"));
  nlohmann::json backends = proxy.stats()["backends"];
  ASSERT_EQ(backends.size(), 2u) << backends.dump();
  EXPECT_EQ(backends[0]["pool"], "default");
  EXPECT_EQ(backends[0]["address"], b->address());
  EXPECT_EQ(backends[1]["pool"], "spare");
  ASSERT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 3; })) << proxy.stats().dump();
  ASSERT_TRUE(before.send_all("after the reload"));
  EXPECT_EQ(before.recv_exact(16), "after the reload") << "the old connection still reaches a";

  // a comes back to the default pool beside b; b is unchanged, so it keeps its count.
  proxy.rewrite_config(
      proxy_config({backend_json(b->address()), backend_json(a->address())}, checks));
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(proxy.process().wait_for_log(
      "pool default changed (1 of 2 backend(s) kept), pool spare removed", kDeadline))
      << proxy.process().err();
  backends = proxy.stats()["backends"];
  ASSERT_EQ(backends.size(), 2u) << backends.dump();
  EXPECT_EQ(backends[0]["connections"], 3u) << backends.dump();
  EXPECT_EQ(backends[1]["address"], a->address());
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(echo_once(proxy.address(), "to both"));
  EXPECT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 5 && relayed_to(proxy, 1) == 2; }))
      << proxy.stats().dump();

  // A second listener and a pool for it: a restart, and nothing of it is applied.
  proxy.rewrite_config(R"({"listeners": [{"port": 0}, {"port": 0, "pool": "spare"}],
      "backends": [)" + backend_json(b->address()) +
                       "]" + checks + spare +
                       R"(, "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(proxy.process().wait_for_log(
      "changed but needs a restart: listeners, backends/pools (with the listeners)", kDeadline))
      << proxy.process().err();
  EXPECT_EQ(proxy.stats()["backends"].size(), 2u) << "the pools were left as they were";
  before.shutdown_write();
  EXPECT_TRUE(before.recv_until_closed().closed);
  EXPECT_EQ(proxy.stop(), 0);
}

// A backup gets clients only while no other backend can take them; weight 0 drains a backend:
// after a reload it gets no new client, while the one it relays goes on.
TEST(ProxyReload, ADrainedBackendKeepsItsConnectionsAndTheBackupTakesTheNewOnes) {
  auto a = echo_backend();
  auto b = echo_backend();
  auto config = [&](int weight_of_a) {
    return proxy_config(
        {backend_json(a->address(), weight_of_a),
         R"({"host": "127.0.0.1", "port": )" + b->address().substr(b->address().rfind(':') + 1) +
             R"(, "backup": true})"},
        R"(, "health_check": {"interval_ms": 50})");
  };
  ProxyDaemon proxy(config(1));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(echo_once(proxy.address(), "to a"));
  Socket staying = Socket::connect(proxy.address());
  ASSERT_TRUE(staying.send_all("a, before the drain"));
  ASSERT_EQ(staying.recv_exact(19), "a, before the drain");
  ASSERT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 4; })) << proxy.stats().dump();
  EXPECT_EQ(relayed_to(proxy, 1), 0u) << "a backup while the primary is up";
  EXPECT_EQ(proxy.stats()["backends"][1]["backup"], true);

  proxy.rewrite_config(config(0));
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(
      proxy.process().wait_for_log("pool default changed (2 of 2 backend(s) kept)", kDeadline))
      << proxy.process().err();
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(echo_once(proxy.address(), "to b"));
  EXPECT_TRUE(eventually([&] { return relayed_to(proxy, 1) == 2; })) << proxy.stats().dump();
  EXPECT_EQ(relayed_to(proxy, 0), 4u) << "drained: no new client";
  // Its open connection still counts (the three closed ones leave it once the proxy has closed
  // their backend sides, a moment after the clients saw their ends).
  EXPECT_TRUE(eventually([&] { return proxy.stats()["backends"][0]["active"] == 1; }))
      << proxy.stats().dump();
  ASSERT_TRUE(staying.send_all("still a"));
  EXPECT_EQ(staying.recv_exact(7), "still a");
  EXPECT_EQ(proxy.stop(), 0);
}

// Reloads while clients come and go: every exchange succeeds, whichever pool it started in, and
// the proxy counts no error. (Under the sanitizer presets this is the test of the pools'
// lifetimes: connections and checkers hold the pools a reload retires.)
TEST(ProxyReload, ManyReloadsUnderConnectionChurnLoseNoClient) {
  auto a = echo_backend();
  auto b = echo_backend();
  const std::string checks = R"(, "health_check": {"interval_ms": 10})";
  const std::string one = proxy_config({backend_json(a->address())}, checks);
  const std::string two = proxy_config(
      {backend_json(a->address(), 3), backend_json(b->address())},
      checks + R"(, "balance": "least_connections", "pools": [{"name": "x", "backends": [)" +
          backend_json(b->address()) + "]}]");
  ProxyDaemon proxy(one);
  std::atomic<bool> done{false};
  std::atomic<int> exchanges{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !done.load(); ++i) {
        const std::string text = "client " + std::to_string(t) + " turn " + std::to_string(i);
        (echo_once(proxy.address(), text) ? exchanges : failures).fetch_add(1);
      }
    });
  }
  for (int reload = 0; reload < 30; ++reload) {
    proxy.rewrite_config(reload % 2 == 0 ? two : one);
    proxy.process().signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  done = true;
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(failures.load(), 0) << exchanges.load() << " exchanges succeeded\n"
                                << proxy.process().err();
  EXPECT_GT(exchanges.load(), 30);
  const nlohmann::json stats = proxy.stats();
  EXPECT_EQ(stats["errors"], 0) << stats.dump();
  EXPECT_EQ(proxy.stop(), 0);
}

// TLS passthrough by server name: each ClientHello's name picks its pool, and every byte (the
// ClientHello first) reaches the backend untouched -- the echo backends send it all back. Not
// TLS, no name, or no route: the listener's pool, without waiting for more. A ClientHello that
// never completes: the listener's pool once connect_timeout_ms has passed.
TEST(ProxySni, EachServerNamePicksItsPoolAndTheBytesPassUntouched) {
  using zap::tls_test::client_hello;
  auto web = echo_backend();
  auto other = echo_backend();
  const std::string routes =
      R"("sni_routes": [{"names": ["web.test", "*.web.test"], "pool": "web"}])";
  ProxyDaemon proxy(R"({"listeners": [{"port": 0, )" + routes +
                    R"(}, {"port": 0, "proxy_protocol": true, )" + routes + R"(}],
      "backends": [)" +
                    backend_json(other->address()) +
                    R"(], "pools": [{"name": "web", "backends": [)" + backend_json(web->address()) +
                    R"(]}], "connect_timeout_ms": 1500,
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  auto exchange = [&](const std::string& first, std::size_t listener = 0) {
    Socket s = Socket::connect(proxy.address(listener));
    return s.valid() && s.send_all(first) && s.recv_exact(first.size()) == first;
  };
  // /stats lists the default pool's backend (other) first, then web's.
  EXPECT_TRUE(exchange(client_hello("web.test") + "and what follows it"));
  EXPECT_TRUE(exchange(client_hello("deep.in.WEB.test", 3000, /*grease_first=*/true)));
  // Behind a PROXY header, on the second listener: the header is the proxy's, the rest relayed.
  {
    const std::string hello = client_hello("web.test");
    Socket behind = Socket::connect(proxy.address(1));
    ASSERT_TRUE(behind.send_all("PROXY TCP4 127.0.0.9 127.0.0.1 5555 443\r\n" + hello));
    EXPECT_EQ(behind.recv_exact(hello.size()), hello);
  }
  // In pieces: the ClientHello is waited for until it is whole.
  {
    const std::string hello = client_hello("web.test", 500);
    Socket pieces = Socket::connect(proxy.address());
    for (std::size_t at = 0; at < hello.size(); at += 200) {
      ASSERT_TRUE(pieces.send_all(hello.substr(at, 200)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(pieces.recv_exact(hello.size()), hello);
  }
  ASSERT_TRUE(eventually([&] { return relayed_to(proxy, 1) == 4; })) << proxy.stats().dump();
  EXPECT_TRUE(exchange(client_hello("other.test")));
  EXPECT_TRUE(exchange(client_hello("")));
  const auto start = Clock::now();
  EXPECT_TRUE(exchange("GET / HTTP/1.1\r\nHost: web.test\r\n\r\n"));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000)) << "not TLS: no wait";
  ASSERT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 3; })) << proxy.stats().dump();
  // A part of a ClientHello, then nothing more: the default pool after connect_timeout_ms.
  const std::string hello = client_hello("web.test");
  Socket slow = Socket::connect(proxy.address());
  const auto stalled = Clock::now();
  ASSERT_TRUE(slow.send_all(hello.substr(0, 20)));
  EXPECT_EQ(slow.recv_exact(20), hello.substr(0, 20));
  EXPECT_GE(Clock::now() - stalled, std::chrono::milliseconds(1400)) << "routed before its time";
  EXPECT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 4; })) << proxy.stats().dump();
  // A part of a ClientHello, then the client's FIN: its bytes still go (to the default pool),
  // and the end after them.
  {
    Socket half = Socket::connect(proxy.address());
    ASSERT_TRUE(half.send_all(hello.substr(0, 20)));
    half.shutdown_write();
    const Socket::Drained back = half.recv_until_closed();
    EXPECT_EQ(back.data, hello.substr(0, 20)) << "bytes sent before a FIN were dropped";
    EXPECT_TRUE(back.closed && !back.reset);
  }
  EXPECT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 5; })) << proxy.stats().dump();
  EXPECT_EQ(relayed_to(proxy, 1), 4u);
  EXPECT_EQ(proxy.stats()["errors"], 0);
  EXPECT_TRUE(proxy.process().wait_for_log(
      "listener 0 routes by server name: default | web.test *.web.test -> web", kDeadline));

  // Routes reload: web.test now goes to the default pool, and only api.test to web.
  proxy.rewrite_config(R"({"listeners": [{"port": 0, "sni_routes": [
        {"names": ["api.test"], "pool": "web"}]}, {"port": 0, "proxy_protocol": true, )" +
                       routes + R"(}], "backends": [)" + backend_json(other->address()) +
                       R"(], "pools": [{"name": "web", "backends": [)" +
                       backend_json(web->address()) + R"(]}], "connect_timeout_ms": 1500,
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(
      proxy.process().wait_for_log("listener 0 routes default | api.test -> web", kDeadline))
      << proxy.process().err();
  EXPECT_TRUE(exchange(client_hello("web.test")));
  EXPECT_TRUE(exchange(client_hello("api.test")));
  EXPECT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 6 && relayed_to(proxy, 1) == 5; }))
      << proxy.stats().dump();
  EXPECT_EQ(proxy.stop(), 0);
}

// The client, seen by each backend through its PROXY header: a client on 127.0.0.2 (the tests'
// other connections come from 127.0.0.1) and the proxy's own address, where it connected.
TEST(ProxyProtocol, EachBackendLearnsTheClientFromAV1OrV2Header) {
  Listener v1_backend;
  Listener v2_backend;
  // The top-level send_proxy (v2) is every backend's default; the first sets its own (v1).
  ProxyDaemon proxy(proxy_config({R"({"host": "127.0.0.1", "port": )" +
                                      v1_backend.address().substr(10) + R"(, "send_proxy": "v1"})",
                                  backend_json(v2_backend.address())},
                                 R"(, "send_proxy": "v2", "health_check": {"enabled": false})"));
  const std::string proxy_port = proxy.address().substr(10);
  for (Listener* backend : {&v1_backend, &v2_backend}) {  // round robin: one each, in order
    Socket client = Socket::connect_from("127.0.0.2:0", proxy.address());
    ASSERT_TRUE(client.valid());
    sockaddr_in local{};
    socklen_t size = sizeof local;
    ::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &size);
    const unsigned client_port = ntohs(local.sin_port);
    ASSERT_TRUE(client.send_all("hello"));
    Socket conn = backend->accept();
    ASSERT_TRUE(conn.valid());
    if (backend == &v1_backend) {
      const std::string expected = "PROXY TCP4 127.0.0.2 127.0.0.1 " + std::to_string(client_port) +
                                   " " + proxy_port + "\r\nhello";
      EXPECT_EQ(conn.recv_exact(expected.size()), expected);
    } else {
      const std::string got = conn.recv_exact(28 + 5);
      ASSERT_EQ(got.size(), 33u);
      EXPECT_EQ(got.substr(0, 16), std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16));
      EXPECT_EQ(got.substr(16, 8), std::string("\x7f\x00\x00\x02\x7f\x00\x00\x01", 8));
      EXPECT_EQ((static_cast<unsigned char>(got[24]) << 8) | static_cast<unsigned char>(got[25]),
                client_port);
      EXPECT_EQ(std::to_string((static_cast<unsigned char>(got[26]) << 8) |
                               static_cast<unsigned char>(got[27])),
                proxy_port);
      EXPECT_EQ(got.substr(28), "hello");
    }
    ASSERT_TRUE(conn.send_all("world"));  // and then it is a relay like any other
    EXPECT_EQ(client.recv_exact(5), "world");
  }
}

// A listener behind another proxy: the client its header names is the one passed on (v1 to the
// first backend), the bytes behind the header are the client's first (also to the second
// backend, which gets no header), and a client without a header never reaches a backend.
TEST(ProxyProtocol, AClientSideHeaderIsBelievedAndPassedOn) {
  Listener with_header;
  Listener without;
  ProxyDaemon proxy(R"({"listeners": [{"port": 0, "proxy_protocol": true}],
      "backends": [{"host": "127.0.0.1", "port": )" +
                    with_header.address().substr(10) + R"(, "send_proxy": "v1"}, )" +
                    backend_json(without.address()) + R"(],
      "health_check": {"enabled": false}, "admin": {"listen": "127.0.0.1:0"},
      "runtime": {"workers": 1}})");
  const std::string incoming = "PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\n";
  for (Listener* backend : {&with_header, &without}) {
    Socket client = Socket::connect(proxy.address());
    ASSERT_TRUE(client.send_all(incoming + "hello"));  // one segment: header and first bytes
    Socket conn = backend->accept();
    ASSERT_TRUE(conn.valid());
    const std::string expected = backend == &with_header ? incoming + "hello" : "hello";
    EXPECT_EQ(conn.recv_exact(expected.size()), expected);
    ASSERT_TRUE(conn.send_all("world"));
    EXPECT_EQ(client.recv_exact(5), "world");
  }
  for (const std::string& bad : {std::string("hello"), std::string("PROXY TCP4 x\r\nhello")}) {
    Socket client = Socket::connect(proxy.address());
    ASSERT_TRUE(client.send_all(bad));
    const Socket::Drained got = client.recv_until_closed();
    EXPECT_TRUE(got.closed) << bad;
    EXPECT_EQ(got.data, "") << bad;
  }
  EXPECT_FALSE(with_header.accept(std::chrono::milliseconds(200)).valid());
  EXPECT_FALSE(without.accept(std::chrono::milliseconds(200)).valid());
}

// The architecture's "zap-http hosts behind zap-proxy": the web server logs the real client.
TEST(ProxyProtocol, ZapHttpBehindZapProxyLogsTheRealClient) {
  TempDir dir;
  std::filesystem::create_directories(dir.path("www"));
  dir.write("www/index.html", "hi from behind the proxy");
  const std::string log_path = dir.path("access.log");
  HttpDaemon http(R"({"listeners": [{"port": 0, "proxy_protocol": true}], "root": ")" +
                  dir.path("www") + R"(", "access_log": ")" + log_path +
                  R"(", "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 1}})");
  // Health checks every 10 ms: they send LOCAL headers, which zap-http takes as clean closes.
  ProxyDaemon proxy(proxy_config({backend_json(http.address())},
                                 R"(, "send_proxy": "v2", "health_check": {"interval_ms": 10})"));
  Socket client = Socket::connect_from("127.0.0.2:0", proxy.address());
  ASSERT_TRUE(client.send_all("GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: behind\r\n\r\n"));
  const HttpReply reply = read_http_reply(client);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hi from behind the proxy");
  client = Socket();
  ASSERT_TRUE(eventually([&] { return http.stats().value("connections_total", 0) >= 10; }));
  EXPECT_EQ(http.stats().value("errors", 1), 0) << http.stats().dump();
  EXPECT_EQ(http.stop(), 0);  // writes what the access log buffered
  const std::string log = read_file(log_path);
  EXPECT_EQ(log.rfind("127.0.0.2 - - [", 0), 0u) << log;
  EXPECT_NE(log.find("\"GET / HTTP/1.1\" 200 24 \"-\" \"behind\""), std::string::npos) << log;
}

// Two listeners, two pools: each listener's clients reach its own pool's backends only, and
// /stats and /metrics name the pool of each backend.
TEST(ProxyPools, EachListenerRelaysToItsOwnPool) {
  auto web = echo_backend();
  auto db = echo_backend();
  ProxyDaemon proxy(R"({"listeners": [{"port": 0}, {"port": 0, "pool": "db"}],
      "backends": [)" +
                    backend_json(web->address()) +
                    R"(],
      "pools": [{"name": "db", "backends": [)" +
                    backend_json(db->address()) + R"(], "balance": "least_connections"}],
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(echo_once(proxy.address(0), "to web"));
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(echo_once(proxy.address(1), "to db"));
  ASSERT_TRUE(eventually([&] { return relayed_to(proxy, 0) == 3 && relayed_to(proxy, 1) == 2; }))
      << proxy.stats().dump();
  const nlohmann::json stats = proxy.stats();
  EXPECT_EQ(stats["backends"][0]["pool"], "default");
  EXPECT_EQ(stats["backends"][1]["pool"], "db");
  EXPECT_EQ(stats["backends"][1]["address"], db->address());
  const HttpReply metrics = http_get(proxy.admin(), "/metrics");
  EXPECT_EQ(prometheus_text_problems(metrics.body), "") << metrics.body;
  EXPECT_NE(metrics.body.find("zap_proxy_backend_connections_total{pool=\"db\",backend=\"" +
                              db->address() + "\"} 2"),
            std::string::npos)
      << metrics.body;
  // Only a named pool: the default one is empty and unused, and nothing minds.
  ProxyDaemon only_db(R"({"listeners": [{"port": 0, "pool": "db"}],
      "pools": [{"name": "db", "backends": [)" +
                      backend_json(db->address()) +
                      R"(], "health_check": {"interval_ms": 10}}],
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 1}})");
  EXPECT_TRUE(echo_once(only_db.address(0), "db only"));
  ASSERT_TRUE(eventually([&] { return relayed_to(only_db, 0) == 1; })) << only_db.stats().dump();
  EXPECT_EQ(only_db.stats()["backends"].size(), 1u);
  EXPECT_EQ(http_get(only_db.admin(), "/metrics").status, 200);
}

TEST(ProxyConfig, MistakesExitNonZeroAndTheExampleChecks) {
  TempDir dir;
  const RunResult none = run_to_exit(proxy_binary(), {"--listen", "127.0.0.1:0"});
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.err.find("backends: at least one backend is required"), std::string::npos)
      << none.err;
  const RunResult bad = run_to_exit(
      proxy_binary(),
      {"--config", dir.write("c.json", R"({"backends": [{"port": 80, "wieght": 2}]})"), "--check"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("backends[0].wieght: unknown key"), std::string::npos) << bad.err;
  const RunResult no_log = run_to_exit(
      proxy_binary(),
      {"--backend", "127.0.0.1:1", "--connection-log", "/nonexistent-dir/c.log", "--check"});
  EXPECT_NE(no_log.code, 0);
  EXPECT_NE(no_log.err.find("connection_log: cannot open \"/nonexistent-dir/c.log\""),
            std::string::npos)
      << no_log.err;
  const RunResult example =
      run_to_exit(proxy_binary(), {"--config", configs_dir() + "/proxy.json", "--check"});
  EXPECT_EQ(example.code, 0) << example.err;
}

// "127.0.0.1:9000" as a regular expression.
std::string literally(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(".[]()*+?^$|\\{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// The log's line for the connection from `client` (a prefix: "127.0.0.2:"), or "".
std::string line_of(const std::string& log, const std::string& client) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(client, 0) == 0) return line;
  }
  return "";
}

// Each connection's line (HAProxy's tcplog): who it was, where it went, how long each step took,
// the bytes each way and how it ended; SIGHUP reopens the file after a rotation.
TEST(ProxyConnectionLog, EachConnectionIsLoggedWithHowItEndedAndSighupReopensTheFile) {
  auto echo = echo_backend();
  DeadPort dead;
  TempDir logs;
  const std::string log_path = logs.path("connections.log");
  ProxyDaemon proxy(R"({"listeners": [{"port": 0}, {"port": 0, "pool": "dead"},
                                      {"port": 0, "proxy_protocol": true}],
      "backends": [)" +
                    backend_json(echo->address()) +
                    R"(],
      "pools": [{"name": "dead", "backends": [)" +
                    backend_json(dead.address()) + R"(], "health_check": {"enabled": false}}],
      "retries": 0, "shutdown_grace_ms": 300, "connection_log": ")" +
                    log_path + R"(",
      "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  {  // relayed both ways, then ended by the client: done
    Socket s = Socket::connect_from("127.0.0.2:0", proxy.address(0));
    ASSERT_TRUE(s.send_all("hello"));
    EXPECT_EQ(s.recv_exact(5), "hello");
    s.shutdown_write();
    EXPECT_TRUE(s.recv_until_closed().closed);
  }
  {  // a client that resets in the middle
    Socket s = Socket::connect_from("127.0.0.3:0", proxy.address(0));
    ASSERT_TRUE(s.send_all("abc"));
    EXPECT_EQ(s.recv_exact(3), "abc");
    s.abort();
  }
  {  // a pool with no backend that answers
    Socket s = Socket::connect_from("127.0.0.4:0", proxy.address(1));
    EXPECT_TRUE(s.recv_until_closed().closed);
  }
  {  // no PROXY header where the listener expects one
    Socket s = Socket::connect_from("127.0.0.5:0", proxy.address(2));
    ASSERT_TRUE(s.send_all("hello\r\n"));
    EXPECT_TRUE(s.recv_until_closed().closed);
  }
  {  // the header's client and destination stand for the connection's
    Socket s = Socket::connect(proxy.address(2));
    ASSERT_TRUE(s.send_all("PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\nhi"));
    EXPECT_EQ(s.recv_exact(2), "hi");
    s.shutdown_write();
    EXPECT_TRUE(s.recv_until_closed().closed);
  }
  ASSERT_TRUE(eventually([&] {
    const std::string log = read_file(log_path);
    return std::count(log.begin(), log.end(), '\n') == 5;
  })) << read_file(log_path);
  std::string log = read_file(log_path);
  const std::string when = R"( \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3} \+0000\] )";
  const std::string times = R"( \d+/\d+/\d+/\d+ )";
  auto expect_line = [&](const std::string& client, const std::string& pattern) {
    const std::string line = line_of(log, client);
    EXPECT_TRUE(std::regex_match(line, std::regex(literally(client) + pattern)))
        << "line: " << line << "\nlog:\n"
        << log;
  };
  const std::string echo_address = literally(echo->address());
  expect_line("127.0.0.2:", R"(\d+)" + when + literally(proxy.address(0)) + " default " +
                                echo_address + " -" + times + "5 5 done");
  expect_line("127.0.0.3:", R"(\d+)" + when + literally(proxy.address(0)) + " default " +
                                echo_address + " -" + times + "3 3 client_error");
  expect_line("127.0.0.4:", R"(\d+)" + when + literally(proxy.address(1)) +
                                R"( dead - - \d+/\d+/-1/\d+ 0 0 no_backend)");
  expect_line("127.0.0.5:", R"(\d+)" + when + literally(proxy.address(2)) +
                                R"( - - - -1/-1/-1/\d+ 0 0 bad_proxy_header)");
  expect_line("192.0.2.7:5555", when + literally("198.51.100.1:443") + " default " + echo_address +
                                    " -" + times + "2 2 done");

  std::filesystem::rename(log_path, log_path + ".1");
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(proxy.process().wait_for_log("reload:", kDeadline));
  {
    Socket s = Socket::connect_from("127.0.0.6:0", proxy.address(0));
    ASSERT_TRUE(s.send_all("after"));
    EXPECT_EQ(s.recv_exact(5), "after");
  }
  ASSERT_TRUE(eventually([&] { return !line_of(read_file(log_path), "127.0.0.6:").empty(); }))
      << read_file(log_path);
  EXPECT_EQ(line_of(read_file(log_path + ".1"), "127.0.0.6:"), "");
  // A connection still relayed when the grace period after SIGTERM runs out.
  Socket held = Socket::connect_from("127.0.0.7:0", proxy.address(0));
  ASSERT_TRUE(held.send_all("held"));
  EXPECT_EQ(held.recv_exact(4), "held");
  EXPECT_EQ(proxy.stop(), 0);
  log = read_file(log_path);  // (written at exit)
  expect_line("127.0.0.7:", R"(\d+)" + when + literally(proxy.address(0)) + " default " +
                                echo_address + " -" + times + "4 4 shutdown");
}

// Over max_connections a client is closed at once and still gets its line, and the daemon's log
// says the limit was reached (at most once per 5 s): an operator learns why clients were cut.
TEST(ProxyConnectionLog, AClientOverMaxConnectionsIsLoggedAsRefused) {
  auto echo = echo_backend();
  TempDir logs;
  const std::string log_path = logs.path("connections.log");
  ProxyDaemon proxy(R"({"listeners": [{"port": 0}], "max_connections": 1, "backends": [)" +
                    backend_json(echo->address()) + R"(], "connection_log": ")" + log_path +
                    R"(", "runtime": {"workers": 1}})");
  Socket held = Socket::connect_from("127.0.0.2:0", proxy.address(0));
  ASSERT_TRUE(held.send_all("held"));
  EXPECT_EQ(held.recv_exact(4), "held");
  Socket over = Socket::connect_from("127.0.0.3:0", proxy.address(0));
  EXPECT_TRUE(over.recv_until_closed().closed);
  ASSERT_TRUE(eventually([&] { return !line_of(read_file(log_path), "127.0.0.3:").empty(); }))
      << read_file(log_path);
  const std::string line = line_of(read_file(log_path), "127.0.0.3:");
  const std::string when = R"( \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3} \+0000\] )";
  EXPECT_TRUE(std::regex_match(
      line, std::regex(literally("127.0.0.3:") + R"(\d+)" + when + literally(proxy.address(0)) +
                       R"( - - - -1/-1/-1/\d+ 0 0 refused)")))
      << line;
  EXPECT_TRUE(
      proxy.process().wait_for_log("max_connections (1) reached, refusing a connection", kDeadline))
      << proxy.process().err();
  EXPECT_EQ(line_of(read_file(log_path), "127.0.0.2:"), "") << "the held connection is still open";
  held.send_all("more");
  EXPECT_EQ(held.recv_exact(4), "more");
}

// Several hosts on one machine: two network namespaces, each a host with its own address and a
// zap-echo, joined to this namespace by veth pairs; zap-proxy here balances over them.
class Namespaces {
 public:
  Namespaces() {
    for (const char* candidate : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(candidate, X_OK) == 0) ip_ = candidate;
    }
    prefix_ = "zapt" + std::to_string(::getpid() % 100000);
  }
  ~Namespaces() {
    // Deleting a namespace deletes the veth end inside it, and with it the pair; a pair whose
    // end never moved in is deleted here.
    for (const std::string& ns : made_) run({"netns", "del", ns});
    for (const std::string& link : links_) run({"link", "del", link});
  }
  const std::string& ip() const { return ip_; }
  // Makes namespace `index` (1-based) with address 10.<s>.<index>.2, reachable from here at
  // 10.<s>.<index>.1. False (with the reason in `why`) if this machine does not allow it.
  bool make(int index, std::string& why) {
    if (ip_.empty()) {
      why = "no ip(8) (iproute2)";
      return false;
    }
    if (::geteuid() != 0) {
      why = "not root: cannot make network namespaces";
      return false;
    }
    const std::string ns = name(index);
    const std::string host = prefix_ + "h" + std::to_string(index);
    const std::string peer = prefix_ + "p" + std::to_string(index);
    const std::string net = subnet(index);
    if (!run({"netns", "add", ns})) {
      why = "ip netns add failed";
      return false;
    }
    made_.push_back(ns);
    if (!run({"link", "add", host, "type", "veth", "peer", "name", peer})) {
      why = "ip link add veth failed";
      return false;
    }
    links_.push_back(host);
    const bool ok = run({"link", "set", peer, "netns", ns}) &&
                    run({"addr", "add", net + ".1/24", "dev", host}) &&
                    run({"link", "set", host, "up"}) &&
                    run({"netns", "exec", ns, ip_, "addr", "add", net + ".2/24", "dev", peer}) &&
                    run({"netns", "exec", ns, ip_, "link", "set", peer, "up"}) &&
                    run({"netns", "exec", ns, ip_, "link", "set", "lo", "up"});
    if (!ok) why = "setting up the veth pair failed";
    return ok;
  }
  std::string name(int index) const { return prefix_ + "n" + std::to_string(index); }
  std::string address(int index) const { return subnet(index) + ".2"; }
  std::vector<std::string> launcher(int index) const { return {ip_, "netns", "exec", name(index)}; }

 private:
  std::string subnet(int index) const {
    return "10." + std::to_string(200 + ::getpid() % 50) + "." + std::to_string(index);
  }
  bool run(const std::vector<std::string>& args) {
    try {
      return run_to_exit(ip_, args).code == 0;
    } catch (const std::exception&) {
      return false;
    }
  }

  std::string ip_;
  std::string prefix_;
  std::vector<std::string> made_;
  std::vector<std::string> links_;
};

TEST(ProxyMultiHost, BalancesOverBackendsOnTwoHostsOfTheirOwn) {
  Namespaces hosts;
  std::string why;
  if (!hosts.make(1, why) || !hosts.make(2, why)) GTEST_SKIP() << why;
  std::vector<std::unique_ptr<Daemon>> echoes;
  for (int i = 1; i <= 2; ++i) {
    echoes.push_back(std::make_unique<Daemon>(echo_binary(),
                                              R"({"listeners": [{"host": ")" + hosts.address(i) +
                                                  R"(", "port": 7000}],
            "admin": {"listen": ")" + hosts.address(i) +
                                                  R"(:9901"}, "runtime": {"workers": 1}})",
                                              std::vector<std::string>{}, hosts.launcher(i)));
  }
  ProxyDaemon proxy(proxy_config(
      {backend_json(hosts.address(1) + ":7000"), backend_json(hosts.address(2) + ":7000")}));
  const RunResult load = run_to_exit(
      load_binary(), {proxy.address(), "-c", "8", "-s", "512", "-n", "4000", "--no-progress"});
  ASSERT_EQ(load.code, 0) << load.out << load.err;
  EXPECT_NE(load.out.find("verify failures  0"), std::string::npos) << load.out;
  EXPECT_EQ(relayed_to(proxy, 0), 4u);
  EXPECT_EQ(relayed_to(proxy, 1), 4u);
  for (auto& echo : echoes) EXPECT_GE(connections_of(*echo), 4u);
}

}  // namespace
}  // namespace zap::e2e
