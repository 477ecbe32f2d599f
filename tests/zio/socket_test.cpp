#include "zap/zio/socket.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstring>
#include <string>
#include <vector>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::connected_pair;
using testing::EchoClient;
using testing::EchoServer;
using testing::listen_loopback;
using testing::Outcome;
using testing::record;
using testing::run_until;

class SocketTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(SocketTest);

void echo_clients(Loop& loop, const SocketAddress& to, int clients, int rounds) {
  std::vector<std::unique_ptr<EchoClient>> cs;
  for (int i = 0; i < clients; ++i) {
    cs.push_back(std::make_unique<EchoClient>(loop, to, rounds));
    cs.back()->start();
  }
  ASSERT_TRUE(run_until(loop, [&] {
    for (auto& c : cs)
      if (!c->done) return false;
    return true;
  }));
  for (auto& c : cs) EXPECT_FALSE(c->error) << c->error.message();
}

TEST_P(SocketTest, EchoesOverIpv4) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  EchoServer server(loop(), listener.get());
  server.start();
  echo_clients(loop(), addr, 8, 20);
  EXPECT_EQ(server.accepted, 8u);
}

TEST_P(SocketTest, EchoesOverIpv6Loopback) {
  std::error_code ec;
  UniqueFd listener = listen_stream(SocketAddress::ipv6_loopback(0), {}, ec);
  if (ec) GTEST_SKIP() << "IPv6 loopback unavailable: " << ec.message();
  const auto addr = local_address(listener.get(), ec);
  EXPECT_EQ(addr.to_string().rfind("[::1]:", 0), 0u);
  EchoServer server(loop(), listener.get());
  server.start();
  echo_clients(loop(), addr, 4, 10);
}

TEST_P(SocketTest, EchoesOverUnixStreamSockets) {
  const std::string path = "/tmp/zio-test-" + std::to_string(::getpid()) + "-" +
                           std::string(to_string(GetParam())) + ".sock";
  std::error_code ec;
  const auto addr = SocketAddress::parse("unix:" + path, ec);
  ASSERT_FALSE(ec);
  UniqueFd listener = listen_stream(addr, {}, ec);
  ASSERT_FALSE(ec) << ec.message();
  EchoServer server(loop(), listener.get());
  server.start();
  echo_clients(loop(), addr, 4, 10);
  ::unlink(path.c_str());
}

// A Unix socket's listener with a full backlog refuses a non-blocking connect with EAGAIN, and
// the end of that never shows as EPOLLOUT on the connecting socket: both backends report EAGAIN
// at once. (epoll waited for an event that never came -- until the deadline, or forever.)
TEST_P(SocketTest, AUnixConnectToAFullBacklogFailsWithEagainAtOnce) {
  const std::string path = "/tmp/zio-test-full-" + std::to_string(::getpid()) + "-" +
                           std::string(to_string(GetParam())) + ".sock";
  std::error_code ec;
  const auto addr = SocketAddress::parse("unix:" + path, ec);
  ASSERT_FALSE(ec);
  ListenOptions options;
  options.backlog = 0;
  UniqueFd listener = listen_stream(addr, options, ec);
  ASSERT_FALSE(ec) << ec.message();
  std::vector<UniqueFd> queued;  // until the backlog refuses one
  for (int i = 0; i < 16; ++i) {
    UniqueFd filler = open_socket(AF_UNIX, SOCK_STREAM, ec);
    ASSERT_FALSE(ec);
    if (::connect(filler.get(), addr.data(), addr.size()) != 0) {
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
    queued.push_back(std::move(filler));
  }
  UniqueFd client = open_socket(AF_UNIX, SOCK_STREAM, ec);
  ASSERT_FALSE(ec);
  Outcome out;
  Operation op(&record, &out);
  op.prep_connect(client.get(), addr);
  op.set_timeout(5s);
  const auto start = std::chrono::steady_clock::now();
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.raw(), -EAGAIN);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "waited for the deadline";
  ::unlink(path.c_str());
}

// An op the file can never serve fails with its errno at once on both backends: epoll waited
// for a readiness that never comes (until the deadline, or forever without one).
TEST_P(SocketTest, AReadTheFileCannotServeFailsAtOnce) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::error_code ec;
  UniqueFd listener = listen_stream(SocketAddress::ipv4_loopback(0), {}, ec);
  ASSERT_FALSE(ec) << ec.message();
  char buf[16];
  Outcome on_pipe, on_write_end, on_listener;
  Operation recv_pipe(&record, &on_pipe), read_write_end(&record, &on_write_end),
      recv_listener(&record, &on_listener);
  recv_pipe.prep_recv(read_end.get(), buf, sizeof buf);
  read_write_end.prep_read(write_end.get(), buf, sizeof buf);
  recv_listener.prep_recv(listener.get(), buf, sizeof buf);
  for (Operation* op : {&recv_pipe, &read_write_end, &recv_listener}) {
    op->set_timeout(5s);
    loop().submit(*op);
  }
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(loop(), [&] {
    return on_pipe.calls == 1 && on_write_end.calls == 1 && on_listener.calls == 1;
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "waited for the deadline";
  EXPECT_EQ(on_pipe.result.raw(), -ENOTSOCK);
  EXPECT_EQ(on_write_end.result.raw(), -EBADF);
  EXPECT_EQ(on_listener.result.raw(), -ENOTCONN);
}

TEST_P(SocketTest, UdpRoundTripReportsTheSender) {
  std::error_code ec;
  UniqueFd a = bind_datagram(SocketAddress::ipv4_loopback(0), ec);
  ASSERT_FALSE(ec);
  UniqueFd b = bind_datagram(SocketAddress::ipv4_loopback(0), ec);
  ASSERT_FALSE(ec);
  const auto a_addr = local_address(a.get(), ec);
  const auto b_addr = local_address(b.get(), ec);
  Datagram out_dgram, in_dgram;
  Outcome sent, received;
  Operation send_op(&record, &sent), recv_op(&record, &received);
  char buf[64] = {};
  in_dgram.prep_recvfrom(recv_op, b.get(), buf, sizeof(buf));
  recv_op.set_timeout(5s);
  loop().submit(recv_op);
  out_dgram.prep_sendto(send_op, a.get(), "datagram", 8, b_addr);
  loop().submit(send_op);
  ASSERT_TRUE(run_until(loop(), [&] { return sent.calls == 1 && received.calls == 1; }));
  EXPECT_EQ(sent.result.bytes(), 8u);
  ASSERT_EQ(received.result.bytes(), 8u) << received.result.error().message();
  EXPECT_EQ(std::string(buf, 8), "datagram");
  EXPECT_EQ(in_dgram.source(), a_addr);
}

// A socket bound to 0.0.0.0 answers a datagram sent to 127.0.0.2 from 127.0.0.2: a client whose
// UDP socket is connected to that address (and so drops datagrams from any other) gets it.
// (Bound to the wildcard for this; only loopback addresses send or receive.)
TEST_P(SocketTest, AWildcardUdpSocketRepliesFromTheAddressItWasAsked) {
  std::error_code ec;
  UniqueFd server = bind_datagram(SocketAddress::ipv4(INADDR_ANY, 0), ec);
  ASSERT_FALSE(ec);
  ASSERT_FALSE(enable_reply_source(server.get(), AF_INET));
  const std::uint16_t port = local_address(server.get(), ec).port();
  const SocketAddress asked = SocketAddress::ipv4(0x7f000002, port);  // 127.0.0.2
  UniqueFd client = open_socket(AF_INET, SOCK_DGRAM, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(::connect(client.get(), asked.data(), asked.size()), 0);
  ASSERT_EQ(::send(client.get(), "ping", 4, 0), 4);

  Datagram request, reply;
  Outcome received, sent;
  Operation recv_op(&record, &received), send_op(&record, &sent);
  char buf[16] = {};
  request.prep_recvfrom(recv_op, server.get(), buf, sizeof buf);
  recv_op.set_timeout(5s);
  loop().submit(recv_op);
  ASSERT_TRUE(run_until(loop(), [&] { return received.calls == 1; }));
  ASSERT_EQ(received.result.bytes(), 4u) << received.result.error().message();
  EXPECT_EQ(request.reply_source(), SocketAddress::ipv4(0x7f000002, 0));
  reply.prep_reply(send_op, server.get(), "pong", 4, request);
  loop().submit(send_op);
  ASSERT_TRUE(run_until(loop(), [&] { return sent.calls == 1; }));
  ASSERT_EQ(sent.result.bytes(), 4u) << sent.result.error().message();

  pollfd readable{client.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 5000), 1) << "the reply came from another address";
  char back[8] = {};
  ASSERT_EQ(::recv(client.get(), back, sizeof back, 0), 4);
  EXPECT_EQ(std::string(back, 4), "pong");
}

TEST_P(SocketTest, WritevGathersBuffersInOrder) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  const char a[] = "alpha-", b[] = "beta-", c[] = "gamma";
  iovec iov[3] = {{const_cast<char*>(a), 6}, {const_cast<char*>(b), 5}, {const_cast<char*>(c), 5}};
  Outcome wrote, read;
  Operation w(&record, &wrote), r(&record, &read);
  w.prep_writev(client.get(), iov, 3);
  loop().submit(w);
  char buf[32] = {};
  std::size_t have = 0;
  while (have < 16) {
    r.prep_recv(server.get(), buf + have, sizeof(buf) - have);
    r.set_timeout(5s);
    const int before = read.calls;
    loop().submit(r);
    ASSERT_TRUE(run_until(loop(), [&] { return read.calls == before + 1; }));
    ASSERT_TRUE(read.result.ok()) << read.result.error().message();
    ASSERT_GT(read.result.bytes(), 0u);
    have += read.result.bytes();
  }
  EXPECT_EQ(wrote.result.bytes(), 16u);
  EXPECT_EQ(std::string(buf, 16), "alpha-beta-gamma");
}

TEST_P(SocketTest, PartialWritesAreReportedAndResumed) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  const int client_fd = client.get(), server_fd = server.get();  // clang 14: no binding captures
  ASSERT_FALSE(set_buffer_sizes(client.get(), 16 * 1024, 0));
  ASSERT_FALSE(set_buffer_sizes(server.get(), 0, 16 * 1024));
  std::vector<char> data(4 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 13));

  Outcome wrote;
  Operation w(&record, &wrote);
  w.prep_send(client.get(), data.data(), data.size());
  loop().submit(w);
  ASSERT_TRUE(run_until(loop(), [&] { return wrote.calls == 1; }));  // nobody reads yet
  ASSERT_TRUE(wrote.result.ok()) << wrote.result.error().message();
  const std::size_t first = wrote.result.bytes();
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, data.size()) << "a full socket buffer must end the send early";

  std::size_t sent = first, received = 0;
  std::vector<char> got(data.size());
  Outcome read;
  Operation r(&record, &read);
  auto submit_send = [&] {
    w.prep_send(client_fd, data.data() + sent, data.size() - sent);
    loop().submit(w);
  };
  auto submit_recv = [&] {
    r.prep_recv(server_fd, got.data() + received, got.size() - received);
    loop().submit(r);
  };
  submit_send();
  submit_recv();
  int seen_w = 1, seen_r = 0;
  ASSERT_TRUE(run_until(loop(), [&] {
    if (wrote.calls != seen_w) {
      seen_w = wrote.calls;
      EXPECT_TRUE(wrote.result.ok());
      sent += wrote.result.bytes();
      if (sent < data.size()) submit_send();
    }
    if (read.calls != seen_r) {
      seen_r = read.calls;
      EXPECT_TRUE(read.result.ok());
      received += read.result.bytes();
      if (received < data.size()) submit_recv();
    }
    return sent == data.size() && received == data.size() && !w.busy() && !r.busy();
  }));
  EXPECT_TRUE(got == data);
}

TEST_P(SocketTest, PeerResetIsEconnreset) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  linger lg{1, 0};  // close with RST
  ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  client.reset();
  char buf[16];
  Outcome out;
  Operation r(&record, &out);
  r.prep_recv(server.get(), buf, sizeof(buf));
  r.set_timeout(5s);
  loop().submit(r);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.error(), std::errc::connection_reset);
  // Sending to the reset socket is an error too (EPIPE or ECONNRESET), never a SIGPIPE.
  Operation s(&record, &out);
  s.prep_send(server.get(), "x", 1);
  loop().submit(s);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 2; }));
  EXPECT_FALSE(out.result.ok());
}

TEST_P(SocketTest, HalfCloseDeliversEofAndTheOtherDirectionStillWorks) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  Outcome out;
  Operation op(&record, &out);
  op.prep_shutdown(client.get(), SHUT_WR);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  ASSERT_TRUE(out.result.ok()) << out.result.error().message();
  char buf[16];
  op.prep_recv(server.get(), buf, sizeof(buf));
  op.set_timeout(5s);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 2; }));
  ASSERT_TRUE(out.result.ok()) << out.result.error().message();
  EXPECT_EQ(out.result.bytes(), 0u);  // EOF
  op.prep_send(server.get(), "reply", 5);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 3; }));
  EXPECT_EQ(out.result.bytes(), 5u);
  op.prep_recv(client.get(), buf, sizeof(buf));
  op.set_timeout(5s);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 4; }));
  ASSERT_EQ(out.result.bytes(), 5u) << out.result.error().message();
  EXPECT_EQ(std::string(buf, 5), "reply");
}

TEST_P(SocketTest, ConnectRefusedIsEconnrefused) {
  SocketAddress addr;
  {
    UniqueFd listener;
    addr = listen_loopback(listener);
  }  // closed: nothing listens on the port now
  std::error_code ec;
  UniqueFd fd = open_socket(AF_INET, SOCK_STREAM, ec);
  Outcome out;
  Operation op(&record, &out);
  op.prep_connect(fd.get(), addr);
  op.set_timeout(5s);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.error(), std::errc::connection_refused);
}

TEST_P(SocketTest, ConnectTimeoutFiresWhenTheHandshakeStalls) {
  // A listener whose accept queue is full drops further SYNs: the connect hangs until the
  // deadline. Fill the queue (backlog 0 still admits one) with connections nobody accepts.
  std::error_code ec;
  ListenOptions options;
  options.backlog = 0;
  UniqueFd listener = listen_stream(SocketAddress::ipv4_loopback(0), options, ec);
  ASSERT_FALSE(ec);
  const auto addr = local_address(listener.get(), ec);
  std::vector<UniqueFd> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(open_socket(AF_INET, SOCK_STREAM, ec));
    (void)::connect(fillers.back().get(), addr.data(), addr.size());
  }
  Outcome done;
  // Wait for the fillers' handshakes with a timer (no sleeping): 50 ms is plenty on loopback.
  Operation pause(&record, &done);
  pause.prep_timeout(50ms);
  loop().submit(pause);
  ASSERT_TRUE(run_until(loop(), [&] { return done.calls == 1; }));

  UniqueFd fd = open_socket(AF_INET, SOCK_STREAM, ec);
  Outcome out;
  Operation op(&record, &out);
  op.prep_connect(fd.get(), addr);
  op.set_timeout(200ms);
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.error(), std::errc::timed_out) << out.result.error().message();
}

TEST_P(SocketTest, CancelInFlightRecvAndAccept) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  char buf[16];
  Outcome recv_out, accept_out;
  Operation r(&record, &recv_out), a(&record, &accept_out);
  r.prep_recv(server.get(), buf, sizeof(buf));
  a.prep_accept(listener.get());
  loop().submit(r);
  loop().submit(a);
  loop().run_once(0ns);  // both now wait in the kernel / the wait lists
  EXPECT_EQ(recv_out.calls + accept_out.calls, 0);
  loop().cancel(r);
  loop().cancel(a);
  ASSERT_TRUE(run_until(loop(), [&] { return recv_out.calls == 1 && accept_out.calls == 1; }));
  EXPECT_EQ(recv_out.result.error(), std::errc::operation_canceled);
  EXPECT_EQ(accept_out.result.error(), std::errc::operation_canceled);
  // Both fds remain usable after a cancel.
  auto [client2, server2] = connected_pair(loop(), listener.get(), addr);
  ASSERT_EQ(::send(client.get(), "ok", 2, 0), 2);
  r.prep_recv(server.get(), buf, sizeof(buf));
  r.set_timeout(5s);
  loop().submit(r);
  ASSERT_TRUE(run_until(loop(), [&] { return recv_out.calls == 2; }));
  EXPECT_EQ(recv_out.result.bytes(), 2u);
}

TEST_P(SocketTest, CloseFdCancelsItsOperations) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  char buf[16];
  Outcome out;
  Operation r(&record, &out);
  r.prep_recv(server.get(), buf, sizeof(buf));
  loop().submit(r);
  loop().run_once(0ns);
  loop().close_fd(server.release());
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.error(), std::errc::operation_canceled);
}

TEST_P(SocketTest, AcceptUnderEmfileFailsThenRecovers) {
  // No member calls while descriptors are exhausted: UBSan's vptr check needs a pipe to probe
  // memory, and reports a false "invalid vptr" when it cannot make one.
  Loop& lp = loop();
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  std::error_code ec;
  UniqueFd client = open_socket(AF_INET, SOCK_STREAM, ec);
  ASSERT_FALSE(ec);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> hogs;  // take every free descriptor below the limit
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) hogs.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  Outcome connected, accepted;
  Operation c(&record, &connected), a(&record, &accepted);
  c.prep_connect(client.get(), addr);
  c.set_timeout(5s);
  a.prep_accept(listener.get());
  lp.submit(c);
  lp.submit(a);
  const bool finished = run_until(lp, [&] { return connected.calls == 1 && accepted.calls == 1; });
  for (int i = 0; i < 2 && !hogs.empty(); ++i) {  // free descriptors before any assertion
    ::close(hogs.back());
    hogs.pop_back();
  }
  ASSERT_TRUE(finished);
  EXPECT_TRUE(connected.result.ok()) << connected.result.error().message();
  EXPECT_EQ(accepted.result.error(), std::errc::too_many_files_open)
      << accepted.result.error().message();

  // Descriptors freed: the same listener accepts the waiting connection.
  a.prep_accept(listener.get());
  a.set_timeout(5s);
  lp.submit(a);
  ASSERT_TRUE(run_until(lp, [&] { return accepted.calls == 2; }));
  ASSERT_TRUE(accepted.result.ok()) << accepted.result.error().message();
  ::close(accepted.result.fd());
  for (int fd : hogs) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

TEST_P(SocketTest, OptionsApplyToTcpSockets) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  EXPECT_FALSE(set_nodelay(client.get(), true));
  EXPECT_FALSE(set_keepalive(client.get(), {}));
  int on = 0;
  socklen_t len = sizeof(on);
  ::getsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &on, &len);
  EXPECT_EQ(on, 1);
  std::error_code ec;
  EXPECT_EQ(peer_address(client.get(), ec), addr);
  ListenOptions reuse;
  reuse.reuse_port = true;
  UniqueFd a = listen_stream(SocketAddress::ipv4_loopback(0), reuse, ec);
  ASSERT_FALSE(ec) << ec.message();
  auto port_addr = local_address(a.get(), ec);
  UniqueFd b = listen_stream(port_addr, reuse, ec);  // SO_REUSEPORT: a second listener, same port
  EXPECT_FALSE(ec) << ec.message();
}

}  // namespace
}  // namespace zap::zio
