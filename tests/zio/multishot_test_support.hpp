// Shared by the multishot tests: a loop per flavour - io_uring with the kernel's multishot,
// io_uring forced to emulate it (LoopOptions::kernel_multishot = false), and epoll - with a
// BufferRing that outlives the loop, and a recorder of every completion with its more()/buffer.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "zap/zio/buffer_ring.hpp"
#include "zap/zio/loop.hpp"
#include "zap/zio/socket.hpp"
#include "zio_test_support.hpp"

namespace zap::zio::testing {

struct Flavor {
  BackendKind backend;
  bool kernel_multishot;
};

inline std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return std::string(to_string(info.param.backend)) +
         (info.param.backend == BackendKind::io_uring && !info.param.kernel_multishot ? "_emulated"
                                                                                      : "");
}

#define ZIO_INSTANTIATE_FLAVORS(Suite)                                                         \
  INSTANTIATE_TEST_SUITE_P(                                                                    \
      Flavors, Suite,                                                                          \
      ::testing::Values(::zap::zio::testing::Flavor{::zap::zio::BackendKind::io_uring, true},  \
                        ::zap::zio::testing::Flavor{::zap::zio::BackendKind::io_uring, false}, \
                        ::zap::zio::testing::Flavor{::zap::zio::BackendKind::epoll, true}),    \
      ::zap::zio::testing::flavor_name)

class MultishotTest : public ::testing::TestWithParam<Flavor> {
 protected:
  // Enough for 16 echo connections even when emulated recvs hold a buffer each while waiting.
  static constexpr std::uint32_t kBuffers = 64;
  static constexpr std::uint32_t kBufferSize = 2048;

  void SetUp() override {
    memory_.resize(std::size_t{kBuffers} * kBufferSize);
    ring_ = std::make_unique<BufferRing>(memory_.data(), kBuffers, kBufferSize);
    LoopOptions options;
    options.backend = GetParam().backend;
    options.kernel_multishot = GetParam().kernel_multishot;
    std::error_code ec;
    loop_ = Loop::create(options, ec);
    ASSERT_TRUE(loop_) << ec.message();
  }
  Loop& loop() { return *loop_; }
  BufferRing& ring() { return *ring_; }
  bool uring() const { return GetParam().backend == BackendKind::io_uring; }

  // Destroyed in reverse: the loop first (it lets go of every op and buffer), then the ring.
  std::vector<std::byte> memory_;
  std::unique_ptr<BufferRing> ring_;
  std::unique_ptr<Loop> loop_;
};

// One completion as the callback saw it.
struct Shot {
  Result result;
  bool more = false;
  bool busy = false;
  bool has_buffer = false;
  std::uint16_t buffer = 0;
};

struct ShotLog {
  std::vector<Shot> shots;
  int finals = 0;
  [[nodiscard]] std::size_t successes() const {
    std::size_t n = 0;
    for (const auto& s : shots) n += s.result.ok() && s.more ? 1 : 0;
    return n;
  }
};

inline void log_shot(Operation& op, Result r) {
  auto* log = static_cast<ShotLog*>(op.user());
  log->shots.push_back({r, op.more(), op.busy(), op.has_buffer(), op.buffer_id()});
  if (!op.more()) ++log->finals;
}

// A blocking loopback connect: completes from the listener's backlog, no accept needed.
inline UniqueFd connect_blocking(const SocketAddress& to) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd) << std::strerror(errno);
  EXPECT_EQ(::connect(fd.get(), to.data(), to.size()), 0) << std::strerror(errno);
  return fd;
}

// Echo server on multishot accept + multishot recv: each chunk is sent back straight from its
// ring buffer, which is recycled once sent. Per connection a small fixed queue of chunks (no
// allocation after accept); a recv that ended with ENOBUFS is re-armed when a buffer comes back.
class MultishotEchoServer {
 public:
  MultishotEchoServer(Loop& loop, int listen_fd, BufferRing& ring)
      : loop_(loop), ring_(ring), listen_fd_(listen_fd), accept_op_(&on_accept, this) {
    starved_.reserve(1024);
  }
  ~MultishotEchoServer() {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
  }
  void start() {
    accept_op_.prep_accept_multishot(listen_fd_);
    loop_.submit(accept_op_);
  }

  std::size_t accepted = 0;
  std::size_t closed = 0;
  std::size_t accept_submissions = 1;
  std::vector<std::error_code> errors;

 private:
  static constexpr unsigned kQueue = 16;
  struct Chunk {
    std::uint16_t id;
    std::uint32_t len;
  };
  struct Conn {
    MultishotEchoServer* server;
    int fd;
    Operation recv_op;
    Operation send_op;
    Chunk queue[kQueue];
    unsigned head = 0, count = 0;
    std::uint32_t sent = 0;
    bool recv_ended = false;
  };

  static void on_accept(Operation& op, Result r) {
    auto& self = *static_cast<MultishotEchoServer*>(op.user());
    if (!r) {
      self.errors.push_back(r.error());
      return;  // final (cancel, listener closed): stop accepting
    }
    ++self.accepted;
    auto conn = std::make_unique<Conn>();
    conn->server = &self;
    conn->fd = r.fd();
    conn->recv_op.set_callback(&on_recv, conn.get());
    conn->send_op.set_callback(&on_send, conn.get());
    conn->recv_op.prep_recv_multishot(conn->fd, self.ring_);
    self.loop_.submit(conn->recv_op);
    self.conns_.push_back(std::move(conn));
    if (!op.more()) {  // the kernel ended it after a success: arm again
      ++self.accept_submissions;
      self.loop_.submit(op);
    }
  }
  static void on_recv(Operation& op, Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    auto& self = *c.server;
    if (op.has_buffer()) {
      if (c.count == kQueue) {  // cannot happen with ping-pong clients; fail loudly
        self.errors.push_back(std::make_error_code(std::errc::no_buffer_space));
        self.ring_.recycle(op.buffer_id());
      } else {
        c.queue[(c.head + c.count++) % kQueue] = {op.buffer_id(),
                                                  static_cast<std::uint32_t>(r.bytes())};
        if (c.count == 1) start_send(c);
      }
    }
    if (op.more()) return;
    if (r.error() == std::errc::no_buffer_space) return self.starved_.push_back(&c);
    if (r.ok() && r.bytes() > 0) return self.loop_.submit(op);  // final success: re-arm
    c.recv_ended = true;
    maybe_close(c);
  }
  static void start_send(Conn& c) {
    const Chunk& chunk = c.queue[c.head];
    c.send_op.prep_send(c.fd, c.server->ring_.buffer(chunk.id) + c.sent, chunk.len - c.sent);
    c.server->loop_.submit(c.send_op);
  }
  static void on_send(Operation& op, Result r) { on_send_done(*static_cast<Conn*>(op.user()), r); }
  static void on_send_done(Conn& c, Result r) {
    auto& self = *c.server;
    if (!r) {  // peer gone: drop what is queued, end the recv
      for (; c.count > 0; --c.count, c.head = (c.head + 1) % kQueue)
        self.recycle(c.queue[c.head].id);
      c.sent = 0;
      if (c.fd >= 0) {
        self.loop_.close_fd(c.fd);
        c.fd = -1;
        ++self.closed;
      }
      return;
    }
    c.sent += static_cast<std::uint32_t>(r.bytes());
    if (c.sent < c.queue[c.head].len) return start_send(c);
    self.recycle(c.queue[c.head].id);
    c.head = (c.head + 1) % kQueue;
    --c.count;
    c.sent = 0;
    if (c.count > 0) return start_send(c);
    maybe_close(c);
  }
  void recycle(std::uint16_t id) {
    ring_.recycle(id);
    if (!starved_.empty()) {  // a buffer is back: a recv that ran dry may go on
      Conn* c = starved_.back();
      starved_.pop_back();
      loop_.submit(c->recv_op);
    }
  }
  static void maybe_close(Conn& c) {
    if (!c.recv_ended || c.count > 0 || c.send_op.busy() || c.fd < 0) return;
    c.server->loop_.close_fd(c.fd);
    c.fd = -1;
    ++c.server->closed;
  }

  Loop& loop_;
  BufferRing& ring_;
  int listen_fd_;
  Operation accept_op_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> starved_;
};

}  // namespace zap::zio::testing
