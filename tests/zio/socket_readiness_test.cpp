// Readiness edge cases: what the epoll backend must not lose (EOF, RST and datagrams behind a
// short read, a splice waiting on its input, an fd number reused behind the loop's back), run on
// both backends like every zio test.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "zap/zio/pipe.hpp"
#include "zap/zio/socket.hpp"
#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::connected_pair;
using testing::listen_loopback;
using testing::Outcome;
using testing::record;
using testing::run_until;

class SocketReadinessTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(SocketReadinessTest);

// Fills fd's send buffer, then submits `op`, a send that waits there (the peer does not read).
void park_a_send(Loop& loop, int fd, Operation& op) {
  static char big[1 << 16];
  while (::send(fd, big, sizeof big, MSG_DONTWAIT) > 0) {
  }
  op.prep_send(fd, big, sizeof big);
  loop.submit(op);
  loop.run_once(0ns);
}

// Data and FIN arrive before the first recv (one edge for both): the recv after the short one
// must see EOF, not wait for an edge that never comes.
TEST_P(SocketReadinessTest, EofBehindDataIsDeliveredAfterTheShortRead) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  const std::string data(100, 'd');
  ASSERT_EQ(::send(client.get(), data.data(), data.size(), 0), 100);
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  char first[4096], second[4096];
  Outcome a, b;
  Operation ra(&record, &a), rb(&record, &b);
  ra.prep_recv(server.get(), first, sizeof(first));
  loop().submit(ra);
  ASSERT_TRUE(run_until(
      loop(), [&] { return a.calls == 1; }, 2s));
  rb.prep_recv(server.get(), second, sizeof(second));  // after the short read
  loop().submit(rb);
  ASSERT_TRUE(run_until(
      loop(), [&] { return b.calls == 1; }, 2s));
  EXPECT_EQ(a.result.bytes(), 100u) << a.result.error().message();
  EXPECT_TRUE(b.result.ok()) << b.result.error().message();
  EXPECT_EQ(b.result.bytes(), 0u);  // EOF
}

// Data then RST before the first recv: the second recv reports the reset (or EOF) promptly.
TEST_P(SocketReadinessTest, ResetBehindDataIsDeliveredAfterTheShortRead) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  ASSERT_EQ(::send(client.get(), "0123456789", 10, 0), 10);
  linger lg{1, 0};  // close with RST
  ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  client.reset();
  char first[4096], second[4096];
  Outcome a, b;
  Operation ra(&record, &a), rb(&record, &b);
  ra.prep_recv(server.get(), first, sizeof(first));
  loop().submit(ra);
  ASSERT_TRUE(run_until(
      loop(), [&] { return a.calls == 1; }, 2s));
  rb.prep_recv(server.get(), second, sizeof(second));  // after the short read
  loop().submit(rb);
  ASSERT_TRUE(run_until(
      loop(), [&] { return b.calls == 1; }, 2s));
  // Linux may drop the unread data with the reset; what matters is that nothing hangs.
  EXPECT_TRUE(a.result.bytes() == 10u || a.result.error() == std::errc::connection_reset)
      << a.result.error().message();
  EXPECT_TRUE(b.result.error() == std::errc::connection_reset ||
              (b.result.ok() && b.result.bytes() == 0))
      << b.result.error().message();
}

// Three datagrams queued before any recv: each of three recvs gets one (a datagram shorter than
// the buffer says nothing about what else is queued).
TEST_P(SocketReadinessTest, QueuedDatagramsAreEachReceived) {
  std::error_code ec;
  UniqueFd a = bind_datagram(SocketAddress::ipv4_loopback(0), ec);
  ASSERT_FALSE(ec);
  UniqueFd b = bind_datagram(SocketAddress::ipv4_loopback(0), ec);
  ASSERT_FALSE(ec);
  const auto b_addr = local_address(b.get(), ec);
  for (const char* text : {"one", "two", "three"}) {
    ASSERT_EQ(::sendto(a.get(), text, std::strlen(text), 0, b_addr.data(), b_addr.size()),
              static_cast<ssize_t>(std::strlen(text)));
  }
  char bufs[3][4096];
  Outcome outs[3];
  Operation ops[3];
  for (int i = 0; i < 3; ++i) {  // one at a time: each after the previous (short) read
    ops[i].set_callback(&record, &outs[i]);
    ops[i].prep_recv(b.get(), bufs[i], sizeof(bufs[i]));
    loop().submit(ops[i]);
    ASSERT_TRUE(run_until(
        loop(), [&] { return outs[i].calls == 1; }, 2s))
        << "datagram " << i;
  }
  EXPECT_EQ(std::string(bufs[0], outs[0].result.bytes()), "one");
  EXPECT_EQ(std::string(bufs[1], outs[1].result.bytes()), "two");
  EXPECT_EQ(std::string(bufs[2], outs[2].result.bytes()), "three");
}

// A socket -> pipe splice submitted while the socket is empty (the pipe is writable) completes
// when data arrives.
TEST_P(SocketReadinessTest, SpliceFromAnEmptySocketWaitsForData) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [client, server] = connected_pair(loop(), listener.get(), addr);
  std::error_code ec;
  Pipe pipe = make_pipe(ec);
  ASSERT_FALSE(ec);
  Outcome out;
  Operation splice(&record, &out);
  splice.prep_splice(server.get(), Operation::kCurrentPosition, pipe.write_end.get(),
                     Operation::kCurrentPosition, 4096);
  splice.set_timeout(5s);
  loop().submit(splice);
  loop().run_once(0ns);
  loop().run_once(10ms);
  ASSERT_EQ(out.calls, 0) << out.result.error().message();
  ASSERT_EQ(::send(client.get(), "spliced!", 8, 0), 8);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 3s));
  ASSERT_EQ(out.result.bytes(), 8u) << out.result.error().message();
  char buf[16] = {};
  ASSERT_EQ(::read(pipe.read_end.get(), buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), "spliced!");
}

// Sockets opened and closed with UniqueFd (the loop never sees the close) reuse one fd number;
// the loop must not trust what it learnt about the previous file under that number.
TEST_P(SocketReadinessTest, FdNumberReusedBehindTheLoopsBackStillWorks) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  int first_fd = -1;
  for (int round = 0; round < 4; ++round) {
    auto [client, server] = connected_pair(loop(), listener.get(), addr);
    ASSERT_TRUE(client && server);
    if (round == 0) first_fd = client.get();
    EXPECT_EQ(client.get(), first_fd) << "the test needs the fd number to be reused";
    char buf[4096];
    Outcome out;
    Operation r(&record, &out);
    r.prep_recv(client.get(), buf, sizeof(buf));
    r.set_timeout(3s);
    loop().submit(r);
    loop().run_once(0ns);
    ASSERT_EQ(::send(server.get(), "ping", 4, 0), 4);
    ASSERT_TRUE(run_until(
        loop(), [&] { return out.calls == 1; }, 4s));
    ASSERT_EQ(out.result.bytes(), 4u) << "round " << round << ": " << out.result.error().message();
    // Both closed by UniqueFd, not by the loop.
  }
}

// A socket the loop waited on, closed behind its back, and a regular file opened at its number:
// epoll refuses to watch the file (EPERM, even for the re-arm of the old registration), so reads
// of it run as blocking reads instead of failing.
TEST_P(SocketReadinessTest, ARegularFileAtAClosedSocketsNumberIsRead) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[1]);
  char buf[64];
  Outcome first;
  Operation op(&record, &first);
  op.prep_recv(sv[0], buf, sizeof buf);
  loop().submit(op);
  loop().run_once(0ns);
  ASSERT_EQ(::send(peer.get(), "hi", 2, 0), 2);
  ASSERT_TRUE(run_until(
      loop(), [&] { return first.calls == 1; }, 4s));
  ::close(sv[0]);
  char path[] = "/tmp/zio-readiness-XXXXXX";
  UniqueFd file(::mkstemp(path));
  ASSERT_TRUE(file);
  ::unlink(path);
  ASSERT_EQ(file.get(), sv[0]) << "the test needs the fd number to be reused";
  ASSERT_EQ(::pwrite(file.get(), "file bytes", 10, 0), 10);
  for (int i = 0; i < 2; ++i) {
    Outcome out;
    op.set_callback(&record, &out);
    op.prep_read(file.get(), buf, sizeof buf, 0);
    loop().submit(op);
    ASSERT_TRUE(run_until(
        loop(), [&] { return out.calls == 1; }, 4s));
    EXPECT_EQ(out.result.bytes(), 10u) << out.result.error().message();
  }
}

// A read stops at TCP's urgent mark with data still queued behind it: the next recv must get
// that data, also while a send waits on the same socket (then nothing else re-arms it, and no new
// edge comes for data that is already there).
TEST_P(SocketReadinessTest, ARecvAfterAReadThatStoppedAtTheUrgentMarkGetsTheRest) {
  UniqueFd listener;
  const auto addr = listen_loopback(listener);
  auto [ours, peer] = connected_pair(loop(), listener.get(), addr);
  ASSERT_TRUE(ours && peer);
  Outcome sent;
  Operation send_op(&record, &sent);
  park_a_send(loop(), ours.get(), send_op);
  const std::string before(100, 'a'), after(100, 'b');
  ASSERT_EQ(::send(peer.get(), before.data(), before.size(), 0), 100);
  ASSERT_EQ(::send(peer.get(), "!", 1, MSG_OOB), 1);
  ASSERT_EQ(::send(peer.get(), after.data(), after.size(), 0), 100);
  loop().run_once(20ms);
  char buf[4096];
  std::string got;
  for (int i = 0; i < 3 && got.size() < 200; ++i) {
    Outcome out;
    Operation recv(&record, &out);
    recv.prep_recv(ours.get(), buf, sizeof buf);
    loop().submit(recv);
    ASSERT_TRUE(run_until(
        loop(), [&] { return out.calls == 1; }, 4s))
        << "the recv after " << got.size() << " bytes waits forever";
    ASSERT_TRUE(out.result.ok()) << out.result.error().message();
    got.append(buf, out.result.bytes());
  }
  EXPECT_EQ(got, before + after);  // (the urgent byte is out of band: not in the stream)
  loop().cancel(send_op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return sent.calls == 1; }, 4s));
}

// A short MSG_PEEK leaves the bytes queued: the recv after it must get them, also while a send
// waits on the same socket (so no re-arm happens between the two).
TEST_P(SocketReadinessTest, ARecvAfterAShortPeekGetsThePeekedBytes) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd ours(sv[0]), peer(sv[1]);
  Outcome sent;
  Operation send_op(&record, &sent);
  park_a_send(loop(), ours.get(), send_op);
  ASSERT_EQ(::send(peer.get(), "hello", 5, 0), 5);
  loop().run_once(20ms);
  char buf[100];
  Outcome peeked, got;
  Operation peek(&record, &peeked), recv(&record, &got);
  peek.prep_recv(ours.get(), buf, sizeof buf, MSG_PEEK);
  loop().submit(peek);
  ASSERT_TRUE(run_until(
      loop(), [&] { return peeked.calls == 1; }, 4s));
  EXPECT_EQ(peeked.result.bytes(), 5u);
  recv.prep_recv(ours.get(), buf, sizeof buf);
  loop().submit(recv);
  ASSERT_TRUE(run_until(
      loop(), [&] { return got.calls == 1; }, 4s))
      << "the recv waits forever";
  EXPECT_EQ(got.result.bytes(), 5u);
  loop().cancel(send_op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return sent.calls == 1; }, 4s));
}

}  // namespace
}  // namespace zap::zio

namespace zap::zio {
namespace {

class PollTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(PollTest);

// prep_poll: completes when the side asked for is ready, with the mask; the caller then does the
// IO itself (here plain send/recv behind the loop's back, as with sendfile).
TEST_P(PollTest, WaitsForTheSideAskedForAndReportsTheMask) {
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  testing::Outcome readable, writable;
  Operation read_op(&testing::record, &readable), write_op(&testing::record, &writable);
  write_op.prep_poll(server.get(), POLLOUT);
  loop().submit(write_op);
  ASSERT_TRUE(testing::run_until(
      loop(), [&] { return writable.calls == 1; }, 2s));
  EXPECT_TRUE(writable.result.raw() & POLLOUT) << writable.result.error().message();

  read_op.prep_poll(server.get(), POLLIN);
  loop().submit(read_op);
  loop().run_once(50ms);
  EXPECT_EQ(readable.calls, 0) << "nothing to read yet";
  ASSERT_EQ(::send(client.get(), "x", 1, 0), 1);
  ASSERT_TRUE(testing::run_until(
      loop(), [&] { return readable.calls == 1; }, 2s));
  EXPECT_TRUE(readable.result.raw() & POLLIN) << readable.result.error().message();
}

// A peer's FIN makes the socket readable. The answer holds what poll(2) would say: POLLIN, and
// POLLRDHUP only for a caller that asked for it (io_uring's own mask carried it unasked).
TEST_P(PollTest, APeersFinIsReadableAndPollrdhupIsSaidOnlyWhenAsked) {
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  testing::Outcome plain, asked;
  Operation plain_op(&testing::record, &plain), asked_op(&testing::record, &asked);
  plain_op.prep_poll(server.get(), POLLIN);
  loop().submit(plain_op);
  ASSERT_TRUE(testing::run_until(
      loop(), [&] { return plain.calls == 1; }, 2s));
  EXPECT_EQ(plain.result.raw(), POLLIN) << plain.result.error().message();
  asked_op.prep_poll(server.get(), POLLIN | POLLRDHUP);
  loop().submit(asked_op);
  ASSERT_TRUE(testing::run_until(
      loop(), [&] { return asked.calls == 1; }, 2s));
  EXPECT_EQ(asked.result.raw(), POLLIN | POLLRDHUP) << asked.result.error().message();
}

TEST_P(PollTest, AFullSocketIsWritableAgainOnlyOnceThePeerReads) {
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  // Small, fixed buffers: the kernel's autotuning cannot grow them while the test waits.
  ASSERT_FALSE(set_buffer_sizes(server.get(), 16 * 1024, 16 * 1024));
  ASSERT_FALSE(set_buffer_sizes(client.get(), 16 * 1024, 16 * 1024));
  const std::string chunk(1 << 16, 'f');
  std::size_t queued = 0;
  for (;;) {  // fill the send and receive buffers, behind the loop's back
    const ssize_t n = ::send(server.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n < 0) break;
    queued += static_cast<std::size_t>(n);
  }
  ASSERT_EQ(errno, EAGAIN);
  testing::Outcome writable;
  Operation op(&testing::record, &writable);
  op.prep_poll(server.get(), POLLOUT);
  loop().submit(op);
  loop().run_once(50ms);
  if (writable.calls == 1) {
    // Space may free up without a read (an ACK processed late on a busy machine); then the
    // answer must be the truth.
    pollfd pfd{server.get(), POLLOUT, 0};
    EXPECT_EQ(::poll(&pfd, 1, 0), 1) << "poll completed although the socket was full";
  }
  std::string sink(1 << 16, '\0');
  ASSERT_TRUE(testing::run_until(
      loop(),
      [&] {
        while (writable.calls == 0 && queued > 0) {
          const ssize_t n = ::recv(client.get(), sink.data(), sink.size(), MSG_DONTWAIT);
          if (n <= 0) break;
          queued -= static_cast<std::size_t>(n);
        }
        return writable.calls == 1;
      },
      5s));
  ASSERT_GT(writable.result.raw(), 0) << writable.result.error().message();
  EXPECT_TRUE(writable.result.raw() & POLLOUT);
}

TEST_P(PollTest, BothDirectionsIsInvalidAndADeadlineEndsTheWait) {
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  testing::Outcome both, late;
  Operation both_op(&testing::record, &both), late_op(&testing::record, &late);
  both_op.prep_poll(server.get(), POLLIN | POLLOUT);
  loop().submit(both_op);
  late_op.prep_poll(server.get(), POLLIN);
  late_op.set_timeout(50ms);
  loop().submit(late_op);
  ASSERT_TRUE(testing::run_until(
      loop(), [&] { return both.calls == 1 && late.calls == 1; }, 2s));
  EXPECT_EQ(both.result.raw(), -EINVAL);
  EXPECT_EQ(late.result.raw(), -ETIMEDOUT);
}

}  // namespace
}  // namespace zap::zio
