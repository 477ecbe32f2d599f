// Sockets: create, bind, listen and tune TCP (v4/v6), UDP and Unix-domain stream sockets. The
// data path (accept, connect, recv, send, writev, shutdown) is Operations on a Loop; these
// helpers are the cheap synchronous set-up calls around them. Every socket made here is
// non-blocking and close-on-exec, as both backends expect.
//
//   std::error_code ec;
//   auto addr = zio::SocketAddress::parse("127.0.0.1:0", ec);
//   zio::UniqueFd listener = zio::listen_stream(addr, {.backlog = 512, .reuse_port = true}, ec);
//   auto bound = zio::local_address(listener.get(), ec);      // the kernel-chosen port
//   zio::Operation accept_op(&on_accept, &server);
//   accept_op.prep_accept(listener.get());
//   loop.submit(accept_op);                                    // Result::fd() = the connection
//
//   zio::UniqueFd client = zio::open_socket(AF_INET, SOCK_STREAM, ec);
//   connect_op.prep_connect(client.get(), bound);
//   connect_op.set_timeout(std::chrono::seconds(3));           // ETIMEDOUT if it takes longer
//
// Half-close: prep_shutdown(fd, SHUT_WR) sends FIN; the peer's recv then completes with 0 bytes.
// Thread-safety: functions are stateless; a Datagram is used by one loop thread at a time.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <system_error>

#include "zap/zio/address.hpp"
#include "zap/zio/fd.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zio {

struct KeepAlive {
  bool enabled = true;
  int idle_seconds = 60;      // TCP_KEEPIDLE
  int interval_seconds = 10;  // TCP_KEEPINTVL
  int probes = 5;             // TCP_KEEPCNT
};

struct ListenOptions {
  int backlog = 1024;
  bool reuse_address = true;  // SO_REUSEADDR: rebind while old connections sit in TIME_WAIT
  bool reuse_port = false;    // SO_REUSEPORT: one listener per worker, kernel balances accepts
  bool v6_only = false;       // IPV6_V6ONLY for [::] listeners
  // TCP only, set before listen(): Linux copies a listener's TCP_NODELAY and keepalive settings
  // to every socket it accepts, so no connection needs a setsockopt of its own, and none (not
  // even one whose handshake completes the instant listen() returns) goes without them.
  bool nodelay = false;
  std::optional<KeepAlive> keepalive;
};

// socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC).
[[nodiscard]] UniqueFd open_socket(int family, int type, std::error_code& ec) noexcept;
// A listening stream socket on `address` (TCP v4/v6, or Unix: an existing socket file is
// replaced only if nothing listens on it).
[[nodiscard]] UniqueFd listen_stream(const SocketAddress& address, const ListenOptions& options,
                                     std::error_code& ec) noexcept;
// A UDP socket bound to `address`.
[[nodiscard]] UniqueFd bind_datagram(const SocketAddress& address, std::error_code& ec) noexcept;

[[nodiscard]] SocketAddress local_address(int fd, std::error_code& ec) noexcept;
[[nodiscard]] SocketAddress peer_address(int fd, std::error_code& ec) noexcept;
[[nodiscard]] std::error_code set_nodelay(int fd, bool on) noexcept;
[[nodiscard]] std::error_code set_keepalive(int fd, const KeepAlive& options) noexcept;
[[nodiscard]] std::error_code set_buffer_sizes(int fd, int send_bytes, int receive_bytes) noexcept;

// The msghdr, iovec and peer address a UDP recvfrom/sendto needs, kept together so that they
// outlive the Operation as they must. One Datagram per in-flight datagram op.
class Datagram {
 public:
  void prep_recvfrom(Operation& op, int fd, void* buf, std::size_t len) noexcept;
  void prep_sendto(Operation& op, int fd, const void* buf, std::size_t len,
                   const SocketAddress& to) noexcept;
  // After a recvfrom completed: who sent it.
  [[nodiscard]] SocketAddress source() const noexcept {
    return SocketAddress::from_native(peer_.data(), msg_.msg_namelen);
  }

 private:
  SocketAddress peer_;
  iovec iov_{};
  msghdr msg_{};
};

}  // namespace zap::zio
