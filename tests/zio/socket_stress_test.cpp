// Heavier socket tests: many concurrent connections, a large verified transfer.
#include <gtest/gtest.h>

#include <random>

#include "zap/zio/socket.hpp"
#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::EchoClient;
using testing::EchoServer;
using testing::listen_loopback;
using testing::run_until;

constexpr std::size_t kTotal = 64u << 20;
constexpr std::size_t kChunk = 256u << 10;

class SocketStressTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(SocketStressTest);

TEST_P(SocketStressTest, ThousandConcurrentLoopbackConnectionsEcho) {
  const rlim_t limit = testing::raise_fd_limit();
  // Two descriptors per connection (client and server ends) plus slack for the test itself.
  const int connections = static_cast<int>(std::min<rlim_t>(1000, (limit - 64) / 2));
  if (connections < 1000)
    std::printf("fd limit %lu: %d connections\n", static_cast<unsigned long>(limit), connections);
  UniqueFd listener;
  std::error_code ec;
  ListenOptions options;
  options.backlog = 4096;
  listener = listen_stream(SocketAddress::ipv4_loopback(0), options, ec);
  ASSERT_FALSE(ec);
  const auto addr = local_address(listener.get(), ec);
  EchoServer server(loop(), listener.get());
  server.start();
  std::vector<std::unique_ptr<EchoClient>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(std::make_unique<EchoClient>(loop(), addr, 5, 64 + i % 100));
    clients.back()->start();
  }
  ASSERT_TRUE(run_until(
      loop(),
      [&] {
        for (auto& c : clients)
          if (!c->done) return false;
        return true;
      },
      60s));
  int failed = 0;
  for (auto& c : clients) failed += c->error ? 1 : 0;
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(server.accepted, static_cast<std::size_t>(connections));
  for (auto& c : clients) c->close();  // servers see EOF and close their ends
  EXPECT_TRUE(run_until(
      loop(), [&] { return server.closed == server.accepted; }, 30s));
}

// Sends 64 MiB of random bytes through the echo server with concurrent send and recv ops on one
// socket, and checks the echo byte for byte via a checksum of each stream.
TEST_P(SocketStressTest, SixtyFourMebibytesRoundTripIntact) {
  std::vector<char> data(kTotal);
  std::mt19937_64 rng(GetParam() == BackendKind::epoll ? 1 : 2);
  for (std::size_t i = 0; i < kTotal; i += 8) {
    const auto v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  const std::uint64_t expected = testing::fnv1a(data.data(), data.size());

  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  EchoServer server(loop(), listener.get());
  server.start();
  std::error_code ec;
  UniqueFd client = open_socket(AF_INET, SOCK_STREAM, ec);
  testing::Outcome connected;
  Operation c(&testing::record, &connected);
  c.prep_connect(client.get(), addr);
  c.set_timeout(5s);
  loop().submit(c);
  ASSERT_TRUE(run_until(loop(), [&] { return connected.calls == 1; }));
  ASSERT_TRUE(connected.result.ok());

  struct State {
    std::size_t sent = 0, received = 0;
    std::uint64_t hash = 1469598103934665603ull;
    std::vector<char> in = std::vector<char>(kChunk);
    bool failed = false;
  } st;
  Operation send_op, recv_op;
  struct Ctx {
    Loop* loop;
    State* st;
    const std::vector<char>* data;
    int fd;
    Operation* send_op;
    Operation* recv_op;
  } ctx{&loop(), &st, &data, client.get(), &send_op, &recv_op};
  send_op.set_callback(
      [](Operation& op, Result r) {
        auto& x = *static_cast<Ctx*>(op.user());
        if (!r) return void(x.st->failed = true);
        x.st->sent += r.bytes();
        if (x.st->sent < kTotal) {
          op.prep_send(x.fd, x.data->data() + x.st->sent, std::min(kChunk, kTotal - x.st->sent));
          x.loop->submit(op);
        }
      },
      &ctx);
  recv_op.set_callback(
      [](Operation& op, Result r) {
        auto& x = *static_cast<Ctx*>(op.user());
        if (!r || r.bytes() == 0) return void(x.st->failed = true);
        x.st->hash = testing::fnv1a(x.st->in.data(), r.bytes(), x.st->hash);
        x.st->received += r.bytes();
        if (x.st->received < kTotal) {
          op.prep_recv(x.fd, x.st->in.data(), x.st->in.size());
          x.loop->submit(op);
        }
      },
      &ctx);
  send_op.prep_send(client.get(), data.data(), kChunk);
  recv_op.prep_recv(client.get(), st.in.data(), st.in.size());
  loop().submit(send_op);
  loop().submit(recv_op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return st.failed || st.received == kTotal; }, 60s));
  EXPECT_FALSE(st.failed);
  EXPECT_EQ(st.sent, kTotal);
  EXPECT_EQ(st.hash, expected);
}

}  // namespace
}  // namespace zap::zio
