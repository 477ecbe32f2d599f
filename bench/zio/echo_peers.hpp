// The echo servers compared by the zio benchmarks, and the load client that drives them.
//  - ZioEchoServer: an echo server written directly on zio (one Loop thread, either backend).
//  - ZioMultishotEchoServer: the same on multishot accept + multishot recv into a BufferRing; each
//    chunk is sent back from its ring buffer, recycled once sent.
//  - PlainEpollEchoServer: the hand-written peer: one thread, level-triggered epoll, one recv and
//    one send per readiness event - the loop a careful C programmer writes.
//  - run_pingpong_client: N connections, each sends a message and waits for its echo, repeat.
// All three are shared by zio_echo_bench (Google Benchmark) and zio_echo_tool (for syscalls.sh).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "common/cpu_pinning.hpp"
#include "zap/zio/buffer_ring.hpp"
#include "zap/zio/loop.hpp"
#include "zap/zio/socket.hpp"

namespace zap::bench::zio_echo {

namespace zio = zap::zio;

inline void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// A listening socket on 127.0.0.1 and an ephemeral port, stored in `port`.
inline zio::UniqueFd listen_on_loopback(std::uint16_t& port) {
  std::error_code ec;
  zio::UniqueFd listener = zio::listen_stream(zio::SocketAddress::ipv4_loopback(0), {}, ec);
  if (ec) die("listen");
  port = zio::local_address(listener.get(), ec).port();
  return listener;
}

inline std::unique_ptr<zio::Loop> make_loop(zio::BackendKind backend) {
  zio::LoopOptions options;
  options.backend = backend;
  std::error_code ec;
  auto loop = zio::Loop::create(options, ec);
  if (!loop) die("zio loop");
  return loop;
}

// Every server's thread runs on the first CPU the process may use, the client on the second
// (common/cpu_pinning.hpp): every server meets the client on the same terms. Left to the
// scheduler, the two sometimes shared a CPU, and that decided the result.
class EchoServer {
 public:
  virtual ~EchoServer() = default;
  virtual std::uint16_t port() const = 0;
  virtual void stop() = 0;
};

class ZioEchoServer final : public EchoServer {
 public:
  explicit ZioEchoServer(zio::BackendKind backend) {
    listener_ = listen_on_loopback(port_);
    loop_ = make_loop(backend);
    thread_ = std::thread([this] { run(); });
  }
  ~ZioEchoServer() override { stop(); }
  std::uint16_t port() const override { return port_; }
  void stop() override {
    if (!thread_.joinable()) return;
    loop_->stop();  // thread-safe
    thread_.join();
    for (auto& c : conns_) ::close(c->fd);
  }

 private:
  struct Conn {
    ZioEchoServer* server;
    int fd;
    std::size_t have = 0, sent = 0;
    zio::Operation op;
    char buf[4096];
  };

  void run() {
    (void)zap::bench::pin_to_cpu_slot(0);  // see EchoServer
    zio::Operation accept_op(&on_accept, this);
    accept_op.prep_accept(listener_.get());
    loop_->submit(accept_op);
    loop_->run();
    loop_->cancel(accept_op);
    for (auto& c : conns_) loop_->cancel(c->op);
    while (loop_->pending() > 0) loop_->run_once(std::chrono::milliseconds(100));
  }
  static void on_accept(zio::Operation& op, zio::Result r) {
    auto& self = *static_cast<ZioEchoServer*>(op.user());
    if (!r) return;  // stopping (ECANCELED) or a transient error: the benchmark has what it needs
    (void)zio::set_nodelay(r.fd(), true);
    auto conn = std::make_unique<Conn>();
    conn->server = &self;
    conn->fd = r.fd();
    conn->op.set_callback(&on_recv, conn.get());
    conn->op.prep_recv(conn->fd, conn->buf, sizeof(conn->buf));
    self.loop_->submit(conn->op);
    self.conns_.push_back(std::move(conn));
    self.loop_->submit(op);
  }
  static void on_recv(zio::Operation& op, zio::Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (!r || r.bytes() == 0) return;  // peer gone; fd closed at stop()
    c.have = r.bytes();
    c.sent = 0;
    op.set_callback(&on_send, &c);
    op.prep_send(c.fd, c.buf, c.have);
    c.server->loop_->submit(op);
  }
  static void on_send(zio::Operation& op, zio::Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (!r) return;
    c.sent += r.bytes();
    if (c.sent < c.have) {
      op.prep_send(c.fd, c.buf + c.sent, c.have - c.sent);
    } else {
      op.set_callback(&on_recv, &c);
      op.prep_recv(c.fd, c.buf, sizeof(c.buf));
    }
    c.server->loop_->submit(op);
  }

  zio::UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::unique_ptr<zio::Loop> loop_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::thread thread_;
};

class ZioMultishotEchoServer final : public EchoServer {
 public:
  explicit ZioMultishotEchoServer(zio::BackendKind backend) {
    listener_ = listen_on_loopback(port_);
    loop_ = make_loop(backend);
    memory_.reset(new std::byte[std::size_t{kBuffers} * kBufferSize]);
    ring_ = std::make_unique<zio::BufferRing>(memory_.get(), kBuffers, kBufferSize);
    if (loop_->register_buffer_ring(*ring_, 1)) die("register_buffer_ring");
    thread_ = std::thread([this] { run(); });
  }
  ~ZioMultishotEchoServer() override { stop(); }
  std::uint16_t port() const override { return port_; }
  void stop() override {
    if (!thread_.joinable()) return;
    loop_->stop();
    thread_.join();
    for (auto& c : conns_) ::close(c->fd);
  }

 private:
  static constexpr std::uint32_t kBuffers = 512;
  static constexpr std::uint32_t kBufferSize = 4096;
  static constexpr unsigned kQueue = 16;
  struct Chunk {
    std::uint16_t id;
    std::uint32_t len;
  };
  struct Conn {
    ZioMultishotEchoServer* server;
    int fd;
    zio::Operation recv_op;
    zio::Operation send_op;
    Chunk queue[kQueue];
    unsigned head = 0, count = 0;
    std::uint32_t sent = 0;
  };

  void run() {
    (void)zap::bench::pin_to_cpu_slot(0);  // see EchoServer
    zio::Operation accept_op(&on_accept, this);
    accept_op.prep_accept_multishot(listener_.get());
    loop_->submit(accept_op);
    loop_->run();
    loop_->cancel(accept_op);
    for (auto& c : conns_) {
      loop_->cancel(c->recv_op);
      loop_->cancel(c->send_op);
    }
    while (loop_->pending() > 0) loop_->run_once(std::chrono::milliseconds(100));
  }
  static void on_accept(zio::Operation& op, zio::Result r) {
    auto& self = *static_cast<ZioMultishotEchoServer*>(op.user());
    if (!r) return;  // stopping (ECANCELED) or a transient error
    (void)zio::set_nodelay(r.fd(), true);
    auto conn = std::make_unique<Conn>();
    conn->server = &self;
    conn->fd = r.fd();
    conn->recv_op.set_callback(&on_recv, conn.get());
    conn->send_op.set_callback(&on_send, conn.get());
    conn->recv_op.prep_recv_multishot(conn->fd, *self.ring_);
    self.loop_->submit(conn->recv_op);
    self.conns_.push_back(std::move(conn));
    if (!op.more()) self.loop_->submit(op);  // the kernel ended it after a success: re-arm
  }
  static void on_recv(zio::Operation& op, zio::Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (op.has_buffer()) {
      if (c.count == kQueue) die("echo queue full");  // ping-pong keeps one chunk in flight
      c.queue[(c.head + c.count++) % kQueue] = {op.buffer_id(),
                                                static_cast<std::uint32_t>(r.bytes())};
      if (c.count == 1) start_send(c);
    }
    if (op.more()) return;
    // Final: re-arm after a success or ENOBUFS (512 buffers for 64 connections: not expected);
    // EOF, errors and ECANCELED end the connection (fd closed at stop()).
    if ((r.ok() && r.bytes() > 0) || r.error() == std::errc::no_buffer_space)
      c.server->loop_->submit(op);
  }
  static void start_send(Conn& c) {
    const Chunk& chunk = c.queue[c.head];
    c.send_op.prep_send(c.fd, c.server->ring_->buffer(chunk.id) + c.sent, chunk.len - c.sent);
    c.server->loop_->submit(c.send_op);
  }
  static void on_send(zio::Operation& op, zio::Result r) {
    auto& c = *static_cast<Conn*>(op.user());
    if (!r) {  // peer gone: give the buffers back
      for (; c.count > 0; --c.count, c.head = (c.head + 1) % kQueue)
        c.server->ring_->recycle(c.queue[c.head].id);
      return;
    }
    c.sent += static_cast<std::uint32_t>(r.bytes());
    if (c.sent < c.queue[c.head].len) return start_send(c);
    c.server->ring_->recycle(c.queue[c.head].id);
    c.head = (c.head + 1) % kQueue;
    --c.count;
    c.sent = 0;
    if (c.count > 0) start_send(c);
  }

  zio::UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::unique_ptr<std::byte[]> memory_;  // outlives ring_ and loop_ (declared first)
  std::unique_ptr<zio::BufferRing> ring_;
  std::unique_ptr<zio::Loop> loop_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::thread thread_;
};

class PlainEpollEchoServer final : public EchoServer {
 public:
  PlainEpollEchoServer() {
    listener_ = listen_on_loopback(port_);
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    stopfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    add(listener_.get());
    add(stopfd_);
    thread_ = std::thread([this] { run(); });
  }
  ~PlainEpollEchoServer() override {
    stop();
    ::close(epfd_);
    ::close(stopfd_);
  }
  std::uint16_t port() const override { return port_; }
  void stop() override {
    if (!thread_.joinable()) return;
    const std::uint64_t one = 1;
    (void)!::write(stopfd_, &one, sizeof(one));
    thread_.join();
  }

 private:
  void add(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
  void run() {
    (void)zap::bench::pin_to_cpu_slot(0);  // see EchoServer
    epoll_event events[256];
    char buf[4096];
    for (;;) {
      const int n = ::epoll_wait(epfd_, events, 256, -1);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stopfd_) {
          for (int c : conns_) ::close(c);
          return;
        }
        if (fd == listener_.get()) {
          const int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) continue;
          (void)zio::set_nodelay(c, true);
          add(c);
          conns_.push_back(c);
          continue;
        }
        const ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
        if (got <= 0) {
          if (got == 0 || errno != EAGAIN) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
          continue;
        }
        for (ssize_t sent = 0; sent < got;) {  // 64-byte echoes never fill the buffer
          const ssize_t w =
              ::send(fd, buf + sent, static_cast<std::size_t>(got - sent), MSG_NOSIGNAL);
          if (w < 0 && errno != EAGAIN) break;
          if (w > 0) sent += w;
        }
      }
    }
  }

  zio::UniqueFd listener_;
  std::uint16_t port_ = 0;
  int epfd_ = -1;
  int stopfd_ = -1;
  std::vector<int> conns_;
  std::thread thread_;
};

// Ping-pong load: `connections` sockets, each sends `message` bytes and waits for all of them to
// come back before sending again, until `requests` echoes have completed in total. Plain epoll,
// same for every server. Returns the completed requests.
class PingPongClient {
 public:
  PingPongClient(std::uint16_t port, int connections, std::size_t message) : message_(message) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    const auto addr = zio::SocketAddress::ipv4_loopback(port);
    for (int i = 0; i < connections; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || ::connect(fd, addr.data(), addr.size()) < 0) die("client connect");
      (void)zio::set_nodelay(fd, true);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(conns_.size());
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
      conns_.push_back({fd, 0});
    }
    out_.assign(message_, 'x');
  }
  ~PingPongClient() {
    for (auto& c : conns_) ::close(c.fd);
    ::close(epfd_);
  }

  std::uint64_t run(std::uint64_t requests) {  // on the second CPU: see EchoServer
    return zap::bench::run_on_cpu_slot(1, [&] { return run_pinned(requests); });
  }

 private:
  std::uint64_t run_pinned(std::uint64_t requests) {
    std::uint64_t done = 0, started = 0;
    for (auto& c : conns_) {
      if (started >= requests) break;
      send_message(c);
      ++started;
    }
    epoll_event events[256];
    char buf[4096];
    while (done < requests) {
      const int n = ::epoll_wait(epfd_, events, 256, 5000);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("client: server stopped answering");
      for (int i = 0; i < n; ++i) {
        Conn& c = conns_[events[i].data.u32];
        const ssize_t got = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (got <= 0) {
          if (got < 0 && errno == EAGAIN) continue;
          die("client recv");
        }
        c.have += static_cast<std::size_t>(got);
        if (c.have < message_) continue;
        c.have = 0;
        ++done;
        if (started < requests) {
          send_message(c);
          ++started;
        }
      }
    }
    return done;
  }

  struct Conn {
    int fd;
    std::size_t have;
  };
  void send_message(Conn& c) {
    if (::send(c.fd, out_.data(), out_.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out_.size()))
      die("client send");
  }

  std::size_t message_;
  int epfd_ = -1;
  std::vector<Conn> conns_;
  std::vector<char> out_;
};

inline std::unique_ptr<EchoServer> make_server(const char* impl) {
  const std::string_view name(impl);
  if (name == "io_uring") return std::make_unique<ZioEchoServer>(zio::BackendKind::io_uring);
  if (name == "epoll") return std::make_unique<ZioEchoServer>(zio::BackendKind::epoll);
  if (name == "io_uring_multishot")
    return std::make_unique<ZioMultishotEchoServer>(zio::BackendKind::io_uring);
  if (name == "epoll_multishot")
    return std::make_unique<ZioMultishotEchoServer>(zio::BackendKind::epoll);
  if (name == "plain_epoll") return std::make_unique<PlainEpollEchoServer>();
  return nullptr;
}

}  // namespace zap::bench::zio_echo
