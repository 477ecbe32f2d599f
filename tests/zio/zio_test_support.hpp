// Shared by the zio tests: a loop per backend, bounded waiting, an echo server and echo clients
// written on zio itself (so each test drives both sides through the backend under test).
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "zap/zio/address.hpp"
#include "zap/zio/loop.hpp"
#include "zap/zio/operation.hpp"
#include "zap/zio/socket.hpp"

namespace zap::zio::testing {

using namespace std::chrono_literals;

inline std::unique_ptr<Loop> make_loop(BackendKind kind) {
  std::error_code ec;
  LoopOptions options;
  options.backend = kind;
  auto loop = Loop::create(options, ec);
  EXPECT_TRUE(loop) << "creating a " << to_string(kind) << " loop: " << ec.message();
  return loop;
}

// Turns `loop` until `done()` or `limit` passes. Never sleeps: run_once waits in the kernel.
template <typename Pred>
bool run_until(Loop& loop, Pred done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= 0ns) return done();
    loop.run_once(std::min<std::chrono::nanoseconds>(left, 100ms));
  }
  return true;
}

class BackendTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  void SetUp() override {
    loop_ = make_loop(GetParam());
    ASSERT_TRUE(loop_);
    ASSERT_EQ(loop_->backend(), GetParam());
  }
  Loop& loop() { return *loop_; }
  std::unique_ptr<Loop> loop_;
};

inline std::string backend_name(const ::testing::TestParamInfo<BackendKind>& info) {
  return std::string(to_string(info.param));
}

#define ZIO_INSTANTIATE_BACKENDS(Suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(                                                                 \
      Backends, Suite,                                                                      \
      ::testing::Values(::zap::zio::BackendKind::io_uring, ::zap::zio::BackendKind::epoll), \
      ::zap::zio::testing::backend_name)

// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the resulting soft limit.
inline rlim_t raise_fd_limit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

inline std::uint64_t fnv1a(const void* data, std::size_t len,
                           std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < len; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

inline SocketAddress listen_loopback(UniqueFd& listener, const char* where = "127.0.0.1:0") {
  std::error_code ec;
  const auto addr = SocketAddress::parse(where, ec);
  EXPECT_FALSE(ec) << ec.message();
  listener = listen_stream(addr, {}, ec);
  EXPECT_FALSE(ec) << ec.message();
  auto bound = local_address(listener.get(), ec);
  EXPECT_FALSE(ec) << ec.message();
  return bound;
}

// Echo server: accepts, then per connection recv -> send everything -> recv ... until EOF/error.
class EchoServer {
 public:
  static constexpr std::size_t kBuffer = 16 * 1024;

  EchoServer(Loop& loop, int listen_fd)
      : loop_(loop), listen_fd_(listen_fd), accept_op_(&on_accept, this) {}
  ~EchoServer() {
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
  }

  void start() {
    accept_op_.prep_accept(listen_fd_);
    loop_.submit(accept_op_);
  }
  void stop_accepting() { loop_.cancel(accept_op_); }

  std::size_t accepted = 0;
  std::size_t closed = 0;
  std::vector<std::error_code> accept_errors;
  bool resubmit_after_error = false;
  bool accepting() const { return accept_op_.busy(); }

 private:
  struct Conn {
    EchoServer* server;
    int fd;
    Operation op;
    std::size_t have = 0, sent = 0;
    char buf[kBuffer];
  };

  static void on_accept(Operation& op, Result r) {
    auto& self = *static_cast<EchoServer*>(op.user());
    if (!r) {
      self.accept_errors.push_back(r.error());
      if (r.error() == std::errc::operation_canceled || !self.resubmit_after_error) return;
    } else {
      ++self.accepted;
      auto conn = std::make_unique<Conn>();
      conn->server = &self;
      conn->fd = r.fd();
      conn->op.set_callback(&on_recv, conn.get());
      conn->op.prep_recv(conn->fd, conn->buf, kBuffer);
      self.loop_.submit(conn->op);
      self.conns_.push_back(std::move(conn));
    }
    self.loop_.submit(op);  // same prepared accept again
  }
  static void on_recv(Operation& op, Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (!r || r.bytes() == 0) {
      c.server->loop_.close_fd(c.fd);
      c.fd = -1;
      ++c.server->closed;
      return;
    }
    c.have = r.bytes();
    c.sent = 0;
    op.set_callback(&on_send, &c);
    op.prep_send(c.fd, c.buf, c.have);
    c.server->loop_.submit(op);
  }
  static void on_send(Operation& op, Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (!r) return on_recv(op, r);
    c.sent += r.bytes();
    if (c.sent < c.have) {  // partial write: send the rest
      op.prep_send(c.fd, c.buf + c.sent, c.have - c.sent);
    } else {
      op.set_callback(&on_recv, &c);
      op.prep_recv(c.fd, c.buf, kBuffer);
    }
    c.server->loop_.submit(op);
  }

  Loop& loop_;
  int listen_fd_;
  Operation accept_op_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// Ping-pong client: connect, then `rounds` times send a message and read its echo back.
class EchoClient {
 public:
  EchoClient(Loop& loop, const SocketAddress& to, int rounds, std::size_t message = 64)
      : loop_(loop),
        to_(to),
        rounds_left_(rounds),
        msg_(message),
        got_(message),
        op_(&on_connect, this) {
    for (std::size_t i = 0; i < message; ++i)
      msg_[i] = static_cast<char>('a' + (i * 7 + rounds) % 26);
  }
  ~EchoClient() { close(); }

  void start() {
    std::error_code ec;
    fd_ = open_socket(to_.family(), SOCK_STREAM, ec).release();
    if (ec) return fail(ec);
    op_.prep_connect(fd_, to_);
    op_.set_timeout(5s);
    loop_.submit(op_);
  }
  void close() {
    if (fd_ >= 0 && !op_.busy()) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool done = false;
  int rounds_done = 0;
  std::error_code error;
  int fd() const { return fd_; }

 private:
  void fail(std::error_code ec) {
    error = ec;
    done = true;
  }
  void send_message() {
    op_.set_callback(&on_send, this);
    op_.prep_send(fd_, msg_.data(), msg_.size());
    loop_.submit(op_);
  }
  static void on_connect(Operation& op, Result r) {
    auto& self = *static_cast<EchoClient*>(op.user());
    if (!r) return self.fail(r.error());
    self.send_message();
  }
  static void on_send(Operation& op, Result r) {
    auto& self = *static_cast<EchoClient*>(op.user());
    if (!r) return self.fail(r.error());
    if (r.bytes() != self.msg_.size())
      return self.fail(std::make_error_code(std::errc::message_size));
    self.have_ = 0;
    op.set_callback(&on_recv, &self);
    op.prep_recv(self.fd_, self.got_.data(), self.got_.size());
    self.loop_.submit(op);
  }
  static void on_recv(Operation& op, Result r) {
    auto& self = *static_cast<EchoClient*>(op.user());
    if (!r) return self.fail(r.error());
    if (r.bytes() == 0) return self.fail(std::make_error_code(std::errc::connection_reset));
    self.have_ += r.bytes();
    if (self.have_ < self.msg_.size()) {
      op.prep_recv(self.fd_, self.got_.data() + self.have_, self.got_.size() - self.have_);
      return self.loop_.submit(op);
    }
    if (self.got_ != self.msg_)
      return self.fail(std::make_error_code(std::errc::illegal_byte_sequence));
    ++self.rounds_done;
    if (--self.rounds_left_ <= 0) {
      self.done = true;
      return;
    }
    self.send_message();
  }

  Loop& loop_;
  SocketAddress to_;
  int rounds_left_;
  int fd_ = -1;
  std::size_t have_ = 0;
  std::vector<char> msg_;
  std::vector<char> got_;
  Operation op_;
};

}  // namespace zap::zio::testing

namespace zap::zio::testing {

struct Outcome {
  int calls = 0;
  Result result;
};

inline void record(Operation& op, Result r) {
  auto* out = static_cast<Outcome*>(op.user());
  ++out->calls;
  out->result = r;
}

// Accepts one connection from a fresh client through the loop. Returns {client, server}.
inline std::pair<UniqueFd, UniqueFd> connected_pair(Loop& loop, int listen_fd,
                                                    const SocketAddress& to) {
  std::error_code ec;
  UniqueFd client = open_socket(to.family(), SOCK_STREAM, ec);
  EXPECT_FALSE(ec) << ec.message();
  Outcome accepted, connected;
  Operation accept_op(&record, &accepted), connect_op(&record, &connected);
  accept_op.prep_accept(listen_fd);
  connect_op.prep_connect(client.get(), to);
  connect_op.set_timeout(5s);
  loop.submit(accept_op);
  loop.submit(connect_op);
  EXPECT_TRUE(run_until(loop, [&] { return accepted.calls == 1 && connected.calls == 1; }));
  EXPECT_TRUE(connected.result.ok()) << connected.result.error().message();
  EXPECT_TRUE(accepted.result.ok()) << accepted.result.error().message();
  return {std::move(client), UniqueFd(accepted.result.fd())};
}

}  // namespace zap::zio::testing
