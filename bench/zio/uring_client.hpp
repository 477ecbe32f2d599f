// UringPingPongClient: the same ping-pong load as PingPongClient (echo_peers.hpp), issued through
// one io_uring with every connection's send and recv batched into a single io_uring_enter per
// loop turn.
//
// Why a second client: on this 2-core machine the server and the client get one CPU each, and the
// epoll client costs about as much per request as the epoll server it drives (epoll_wait + recv +
// send each). It saturates first, and every server then shows the same rate. This client costs
// less per request than an epoll server, so the server becomes the bottleneck and its own cost
// decides the rate. It is written on liburing directly, not on zio, so that it is the same
// neutral client for every server, including the ones built on zio.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/cpu_pinning.hpp"
#include "zap/zio/socket.hpp"

namespace zap::bench::zio_echo {

class UringPingPongClient {
 public:
  UringPingPongClient(std::uint16_t port, int connections, std::size_t message)
      : message_(message), out_(message, 'x') {
    const auto addr = zio::SocketAddress::ipv4_loopback(port);
    std::vector<int> fds;
    for (int i = 0; i < connections; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || ::connect(fd, addr.data(), addr.size()) < 0) {
        std::perror("client connect");
        std::exit(1);
      }
      (void)zio::set_nodelay(fd, true);
      fds.push_back(fd);
      conns_.push_back(Conn{fd, 0, std::vector<char>(message)});
    }
    // At most one send and one recv per connection are in flight.
    const unsigned entries = static_cast<unsigned>(2 * connections);
    // Completions are only run inside our io_uring_enter (DEFER_TASKRUN), so a turn reaps a batch
    // and no interrupt-time task work competes with the loop. Older kernels: plain flags.
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(entries, &ring_, &params) < 0) {
      params = {};
      if (const int rc = io_uring_queue_init_params(entries, &ring_, &params); rc < 0) {
        std::fprintf(stderr, "client io_uring_queue_init: %s\n", std::strerror(-rc));
        std::exit(1);
      }
    }
    // Fixed files: the kernel skips the fd-table lookup and reference count per operation.
    fixed_files_ =
        io_uring_register_files(&ring_, fds.data(), static_cast<unsigned>(fds.size())) == 0;
  }
  ~UringPingPongClient() {
    io_uring_queue_exit(&ring_);
    for (auto& c : conns_) ::close(c.fd);
  }
  UringPingPongClient(const UringPingPongClient&) = delete;
  UringPingPongClient& operator=(const UringPingPongClient&) = delete;

  // Runs until `requests` echoes have come back in full; returns that count.
  std::uint64_t run(std::uint64_t requests) {  // on the second CPU: see EchoServer
    return zap::bench::run_on_cpu_slot(1, [&] { return run_pinned(requests); });
  }

 private:
  struct Conn {
    int fd;
    std::size_t have;  // bytes of the current echo received so far
    std::vector<char> in;
  };
  // user_data: connection index << 1 | 1 for a recv, 0 for a send.
  static constexpr std::uint64_t kRecvTag = 1;

  std::uint64_t run_pinned(std::uint64_t requests) {
    std::uint64_t done = 0, started = 0;
    for (std::size_t i = 0; i < conns_.size() && started < requests; ++i, ++started) start(i);
    while (done < requests) {
      __kernel_timespec timeout{.tv_sec = 5, .tv_nsec = 0};
      io_uring_cqe* cqe = nullptr;
      const int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &timeout, nullptr);
      if (rc == -EINTR) continue;
      if (rc < 0) die(rc == -ETIME ? "client: server stopped answering" : "client submit", rc);
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        const std::size_t index = cqe->user_data >> 1;
        Conn& c = conns_[index];
        if ((cqe->user_data & kRecvTag) == 0) {  // send: 64 bytes always fit the socket buffer
          if (cqe->res != static_cast<int>(message_)) die("client send", cqe->res);
          continue;
        }
        if (cqe->res <= 0) die("client recv", cqe->res);
        c.have += static_cast<std::size_t>(cqe->res);
        if (c.have < message_) {
          post_recv(index);
          continue;
        }
        c.have = 0;
        ++done;
        if (started < requests) {
          start(index);
          ++started;
        }
      }
      io_uring_cq_advance(&ring_, seen);
    }
    return done;
  }

  [[noreturn]] static void die(const char* what, int negative_errno) {
    std::fprintf(stderr, "%s: %s\n", what,
                 negative_errno < 0 ? std::strerror(-negative_errno) : "short transfer");
    std::exit(1);
  }

  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {  // cannot happen: 2 entries per connection, one of each kind in flight
      std::fprintf(stderr, "client: submission queue full\n");
      std::exit(1);
    }
    return sqe;
  }

  void use_file(io_uring_sqe* sqe, std::size_t index) {
    if (!fixed_files_) return;
    sqe->fd = static_cast<int>(index);
    sqe->flags |= IOSQE_FIXED_FILE;
  }

  // One request: the message goes out, and a recv waits for its echo.
  void start(std::size_t index) {
    io_uring_sqe* send = next_sqe();
    io_uring_prep_send(send, conns_[index].fd, out_.data(), out_.size(), MSG_NOSIGNAL);
    use_file(send, index);
    io_uring_sqe_set_data64(send, index << 1);
    post_recv(index);
  }

  void post_recv(std::size_t index) {
    Conn& c = conns_[index];
    io_uring_sqe* recv = next_sqe();
    io_uring_prep_recv(recv, c.fd, c.in.data() + c.have, message_ - c.have, 0);
    use_file(recv, index);
    // The echo cannot be there yet: wait for readiness instead of trying the recv first.
    recv->ioprio |= IORING_RECVSEND_POLL_FIRST;
    io_uring_sqe_set_data64(recv, (index << 1) | kRecvTag);
  }

  std::size_t message_;
  std::vector<char> out_;
  std::vector<Conn> conns_;
  io_uring ring_{};
  bool fixed_files_ = false;
};

}  // namespace zap::bench::zio_echo
