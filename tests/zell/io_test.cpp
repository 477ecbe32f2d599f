// IO awaitables over zio: TCP echo on 127.0.0.1, deadlines, and cancellation while an operation is
// in flight (the frame dies only after the operation completed). Run on each backend.
#include "zap/zell/io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "test_config.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/timeout.hpp"
#include "zap/zio/file.hpp"
#include "zap/zio/pipe.hpp"
#include "zap/zio/socket.hpp"

namespace zell = zap::zell;
namespace zio = zap::zio;
using namespace std::chrono_literals;

namespace {

class Io : public ::testing::TestWithParam<zell::IoBackend> {
 protected:
  zell::Runtime runtime_{zell_test::config(2, GetParam())};
};

zio::UniqueFd listen_local(zio::SocketAddress& bound) {
  std::error_code ec;
  auto addr = zio::SocketAddress::parse("127.0.0.1:0", ec);
  zio::UniqueFd listener = zio::listen_stream(addr, {}, ec);
  EXPECT_FALSE(ec) << ec.message();
  bound = zio::local_address(listener.get(), ec);
  return listener;
}

zell::Task<std::size_t> echo_server(int listen_fd) {
  zio::Result accepted = co_await zell::accept(listen_fd, nullptr, 5s);
  if (!accepted) co_return 0;
  zio::UniqueFd conn(accepted.fd());
  char buf[1024];
  std::size_t total = 0;
  for (;;) {
    zio::Result got = co_await zell::recv(conn.get(), buf, sizeof buf, 5s);
    if (!got || got.bytes() == 0) break;
    total += got.bytes();
    if (!(co_await zell::send_all(conn.get(), buf, got.bytes(), 5s))) break;
  }
  co_return total;
}

zell::Task<std::string> echo_client(zio::SocketAddress to, std::string message) {
  std::error_code ec;
  zio::UniqueFd fd = zio::open_socket(AF_INET, SOCK_STREAM, ec);
  zio::Result connected = co_await zell::connect(fd.get(), to, 5s);
  if (!connected) co_return "connect: " + connected.error().message();
  if (!(co_await zell::send_all(fd.get(), message.data(), message.size(), 5s))) co_return "send";
  std::string reply;
  char buf[256];
  while (reply.size() < message.size()) {
    zio::Result got = co_await zell::recv(fd.get(), buf, sizeof buf, 5s);
    if (!got || got.bytes() == 0) co_return "recv";
    reply.append(buf, got.bytes());
  }
  (void)co_await zell::shutdown(fd.get(), SHUT_WR);
  co_return reply;
}

}  // namespace

TEST_P(Io, TcpEchoOverLoopback) {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  const std::string message(10000, 'z');
  auto server = runtime_.spawn(echo_server(listener.get()));
  auto client = runtime_.spawn(echo_client(bound, message));
  EXPECT_EQ(client.get(), message);
  EXPECT_EQ(server.get(), message.size());
}

TEST_P(Io, RecvDeadlineGivesTimedOut) {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  auto body = [](zio::SocketAddress to) -> zell::Task<std::error_code> {
    std::error_code ec;
    zio::UniqueFd fd = zio::open_socket(AF_INET, SOCK_STREAM, ec);
    (void)co_await zell::connect(fd.get(), to, 5s);
    char buf[16];
    zio::Result r = co_await zell::recv(fd.get(), buf, sizeof buf, 5ms);  // nobody sends
    co_return r.error();
  };
  EXPECT_EQ(runtime_.block_on(body(bound)), std::errc::timed_out);
}

TEST_P(Io, CancelReachesTheOperationInFlight) {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  // accept() waits forever: nobody connects. Cancel it from outside, many times over.
  for (int i = 0; i < 20; ++i) {
    auto acceptor = [](int fd) -> zell::Task<int> {
      zio::Result r = co_await zell::accept(fd);
      co_return r.fd();
    };
    auto h = runtime_.spawn(acceptor(listener.get()));
    auto nap = []() -> zell::Task<void> { co_await zell::sleep_for(200us); };
    runtime_.block_on(nap());
    h.cancel();
    EXPECT_THROW(h.get(), zell::TaskCancelled);
  }
  // The listener still works.
  auto server = runtime_.spawn(echo_server(listener.get()));
  EXPECT_EQ(runtime_.spawn(echo_client(bound, "after")).get(), "after");
  EXPECT_EQ(server.get(), 5u);
}

TEST_P(Io, TimeoutAroundRecvCancelsIt) {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  auto body = [](zio::SocketAddress to) -> zell::Task<bool> {
    std::error_code ec;
    zio::UniqueFd fd = zio::open_socket(AF_INET, SOCK_STREAM, ec);
    (void)co_await zell::connect(fd.get(), to, 5s);
    char buf[16];
    auto reader = [](int f, char* b) -> zell::Task<zio::Result> {
      co_return co_await zell::recv(f, b, 16);
    };
    auto r = co_await zell::timeout(3ms, reader(fd.get(), buf));
    co_return !r.has_value();
  };
  EXPECT_TRUE(runtime_.block_on(body(bound)));
}

TEST_P(Io, ShutdownWithOperationsInFlight) {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  auto acceptor = [](int fd) -> zell::Task<int> { co_return (co_await zell::accept(fd)).fd(); };
  auto h1 = runtime_.spawn(acceptor(listener.get()));
  auto h2 = runtime_.spawn(acceptor(listener.get()));
  auto nap = []() -> zell::Task<void> { co_await zell::sleep_for(1ms); };
  runtime_.block_on(nap());
  runtime_.shutdown();
  EXPECT_THROW(h1.get(), zell::TaskCancelled);
  EXPECT_THROW(h2.get(), zell::TaskCancelled);
}

TEST_P(Io, FileWriteReadAndSendFileToASocket) {
  char path[] = "/tmp/zell_io_test_XXXXXX";
  const int raw = ::mkstemp(path);
  ASSERT_GE(raw, 0);
  ::close(raw);
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  auto body = [](const char* file, int listen_fd,
                 zio::SocketAddress to) -> zell::Task<std::string> {
    std::error_code ec;
    zio::UniqueFd fd = zio::open_file(file, O_RDWR | O_TRUNC, 0600, ec);
    if (ec) co_return "open: " + ec.message();
    const std::string text(100000, 'f');
    zio::Result w = co_await zell::write(fd.get(), text.data(), text.size(), 0);
    if (!w || w.bytes() != text.size()) co_return "write";
    char head[5] = {};
    zio::Result r = co_await zell::read(fd.get(), head, 4, 0);
    if (!r || std::string(head) != "ffff") co_return "read";
    // send_file the whole file to a connected socket and read it back on the other side.
    auto server = zell::spawn(echo_server(listen_fd));
    zio::UniqueFd sock = zio::open_socket(AF_INET, SOCK_STREAM, ec);
    if (!(co_await zell::connect(sock.get(), to, 5s))) co_return "connect";
    zio::Result sent = co_await zell::send_file(sock.get(), fd.get(), 0, text.size());
    if (!sent || sent.bytes() != text.size()) co_return "send_file: " + sent.error().message();
    std::string back;
    char buf[4096];
    while (back.size() < text.size()) {
      zio::Result got = co_await zell::recv(sock.get(), buf, sizeof buf, 5s);
      if (!got || got.bytes() == 0) co_return "recv";
      back.append(buf, got.bytes());
    }
    (void)co_await zell::shutdown(sock.get(), SHUT_WR);
    if (co_await server != text.size()) co_return "server";
    co_return back == text ? "ok" : "mismatch";
  };
  EXPECT_EQ(runtime_.block_on(body(path, listener.get(), bound)), "ok");
  ::unlink(path);
}

namespace {

// A connected pair on loopback: `client` from open_socket (non-blocking), `server` accepted.
struct TcpPair {
  zio::UniqueFd client;
  zio::UniqueFd server;
};

zell::Task<TcpPair> connect_pair() {
  zio::SocketAddress bound;
  zio::UniqueFd listener = listen_local(bound);
  std::error_code ec;
  TcpPair pair;
  pair.client = zio::open_socket(AF_INET, SOCK_STREAM, ec);
  const int small = 16 * 1024;  // small buffers: writes come back partial
  ::setsockopt(pair.client.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  if (!(co_await zell::connect(pair.client.get(), bound, 5s))) co_return pair;
  zio::Result accepted = co_await zell::accept(listener.get(), nullptr, 5s);
  if (accepted) pair.server = zio::UniqueFd(accepted.fd());
  co_return pair;
}

zell::Task<std::string> read_exactly(int fd, std::size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    zio::Result got = co_await zell::recv(fd, buf, sizeof buf, 5s);
    if (!got || got.bytes() == 0) break;
    out.append(buf, got.bytes());
  }
  co_return out;
}

std::string numbered(std::size_t size, char salt) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(i * 131 + salt + i / 251);
  return text;
}

}  // namespace

TEST_P(Io, WritevAllSendsEveryBufferInOrderThroughPartialWrites) {
  auto body = []() -> zell::Task<std::string> {
    TcpPair pair = co_await connect_pair();
    if (!pair.server) co_return "no connection";
    const std::string a = numbered(100, 'a'), b = numbered(3 << 20, 'b'), c = numbered(7, 'c');
    auto reader = zell::spawn(read_exactly(pair.server.get(), a.size() + b.size() + c.size()));
    const iovec iov[4] = {{const_cast<char*>(a.data()), a.size()},
                          {nullptr, 0},  // empty entries are skipped
                          {const_cast<char*>(b.data()), b.size()},
                          {const_cast<char*>(c.data()), c.size()}};
    zio::Result sent = co_await zell::writev_all(pair.client.get(), iov, 4, 5s);
    if (!sent) co_return "writev_all: " + sent.error().message();
    if (sent.bytes() != a.size() + b.size() + c.size()) co_return "short count";
    const std::string got = co_await reader;
    co_return got == a + b + c ? "ok" : "mismatch";
  };
  EXPECT_EQ(runtime_.block_on(body()), "ok");
}

TEST_P(Io, WritevAllOfNothingCompletesAtOnceAndTooManyBuffersIsAnError) {
  auto body = []() -> zell::Task<std::int64_t> {
    co_return (co_await zell::writev_all(-1, {nullptr, 0}, 1s)).raw();
  };
  EXPECT_EQ(runtime_.block_on(body()), 0);
  auto too_many = []() -> zell::Task<std::int64_t> {
    char byte = 0;
    const iovec one = {&byte, 1};
    const iovec iov[5] = {one, one, one, one, one};
    co_return (co_await zell::writev_all(-1, iov, 5)).raw();
  };
  EXPECT_EQ(runtime_.block_on(too_many()), -EINVAL);
}

TEST_P(Io, WritevAllWorksOnAPipeToo) {
  auto body = []() -> zell::Task<std::string> {
    std::error_code ec;
    zio::Pipe pipe = zio::make_pipe(ec);
    if (ec) co_return "pipe: " + ec.message();
    const std::string text = "through a pipe, which is not a socket";
    const zio::Result sent = co_await zell::writev_all(
        pipe.write_end.get(), {const_cast<char*>(text.data()), text.size()}, 5s);
    if (!sent || sent.bytes() != text.size()) co_return "writev_all: " + sent.error().message();
    std::string back(text.size(), '\0');
    const zio::Result got = co_await zell::read(pipe.read_end.get(), back.data(), back.size());
    if (!got) co_return "read: " + got.error().message();
    back.resize(got.bytes());
    co_return back == text ? "ok" : "mismatch: " + back;
  };
  EXPECT_EQ(runtime_.block_on(body()), "ok");
}

// The failure says what went before it (sent()): exactly what the peer can then read.
TEST_P(Io, WritevAllFailsWithTimeoutWhenThePeerReadsNothing) {
  struct Outcome {
    std::int64_t result = 0;
    std::uint64_t sent = 0;
    std::uint64_t arrived = 0;
  };
  auto body = []() -> zell::Task<Outcome> {
    TcpPair pair = co_await connect_pair();
    const std::string big(64 << 20, 'x');  // far more than the socket buffers hold
    auto write =
        zell::writev_all(pair.client.get(), {const_cast<char*>(big.data()), big.size()}, 200ms);
    Outcome outcome;
    outcome.result = (co_await write).raw();
    outcome.sent = write.sent();
    // What the kernel took includes what still waits in the sender's queue: read until nothing
    // more comes (the accepted socket is non-blocking).
    char buf[65536];
    for (pollfd readable{pair.server.get(), POLLIN, 0}; ::poll(&readable, 1, 300) == 1;) {
      const ssize_t n = ::recv(pair.server.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      outcome.arrived += static_cast<std::uint64_t>(n);
    }
    co_return outcome;
  };
  const Outcome outcome = runtime_.block_on(body());
  EXPECT_EQ(outcome.result, -ETIMEDOUT);
  EXPECT_GT(outcome.sent, 0u);
  EXPECT_EQ(outcome.sent, outcome.arrived);
}

TEST_P(Io, WritevAllEndsWhenItsTaskIsCancelled) {
  const std::string big(64 << 20, 'x');
  auto writer = [](int fd, const std::string& bytes) -> zell::Task<void> {
    // No deadline: only the cancel ends it.
    (void)co_await zell::writev_all(fd, {const_cast<char*>(bytes.data()), bytes.size()}, {});
  };
  TcpPair pair = runtime_.block_on(connect_pair());
  auto handle = runtime_.spawn(writer(pair.client.get(), big));
  // Cancel only once the write is under way: some bytes have reached the peer.
  pollfd arrived{pair.server.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&arrived, 1, 5000), 1);  // (the accepted socket is non-blocking)
  char first[1024];
  ASSERT_GT(::recv(pair.server.get(), first, sizeof first, 0), 0);
  handle.cancel();
  EXPECT_THROW(handle.get(), zell::TaskCancelled);
}

TEST_P(Io, PollWaitsForReadiness) {
  auto body = []() -> zell::Task<std::string> {
    TcpPair pair = co_await connect_pair();
    const zio::Result writable = co_await zell::poll(pair.client.get(), POLLOUT, 5s);
    if (writable.raw() <= 0 || !(writable.raw() & POLLOUT)) co_return "not writable";
    const zio::Result quiet = co_await zell::poll(pair.server.get(), POLLIN, 50ms);
    if (quiet.raw() != -ETIMEDOUT) co_return "readable with nothing sent";
    if (::send(pair.client.get(), "x", 1, 0) != 1) co_return "send";
    const zio::Result readable = co_await zell::poll(pair.server.get(), POLLIN, 5s);
    co_return readable.raw() > 0 && (readable.raw() & POLLIN) ? "ok" : "not readable";
  };
  EXPECT_EQ(runtime_.block_on(body()), "ok");
}

TEST_P(Io, SendFileReusesItsSenderAndTimesOutOnAPeerThatReadsNothing) {
  char path[] = "/tmp/zell_io_test_XXXXXX";
  zio::UniqueFd file(::mkstemp(path));
  ASSERT_TRUE(file);
  ::unlink(path);
  const std::string text = numbered(300000, 'f');
  ASSERT_EQ(::pwrite(file.get(), text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  auto body = [](int file_fd, const std::string& expected) -> zell::Task<std::string> {
    TcpPair pair = co_await connect_pair();
    zio::FileSender sender;
    for (int round = 0; round < 2; ++round) {  // the second send reuses the sender's pipe
      auto reader = zell::spawn(read_exactly(pair.server.get(), 1000));
      zio::Result sent =
          co_await zell::send_file(sender, pair.client.get(), file_fd, 5000, 1000, 5s);
      if (!sent || sent.bytes() != 1000) co_return "send_file: " + sent.error().message();
      if (co_await reader != expected.substr(5000, 1000)) co_return "mismatch";
    }
    // Nobody reads now: the whole file cannot fit in the socket buffers many times over.
    for (int i = 0; i < 200; ++i) {
      zio::Result stuck =
          co_await zell::send_file(sender, pair.client.get(), file_fd, 0, expected.size(), 100ms);
      if (stuck.raw() == -ETIMEDOUT) co_return "ok";
      if (!stuck) co_return "unexpected error: " + stuck.error().message();
    }
    co_return "never timed out";
  };
  EXPECT_EQ(runtime_.block_on(body(file.get(), text)), "ok");
}

INSTANTIATE_TEST_SUITE_P(Backends, Io,
                         ::testing::Values(zell::IoBackend::kAutomatic, zell::IoBackend::kEpoll),
                         [](const auto& param_info) {
                           return param_info.param == zell::IoBackend::kEpoll ? "epoll"
                                                                              : "automatic";
                         });
