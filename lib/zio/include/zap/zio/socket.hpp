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
// Has the kernel tell, with each datagram a UDP socket of `family` receives, which local address
// it came in on (IP_PKTINFO / IPV6_RECVPKTINFO): Datagram::prep_reply() then answers from that
// address. A socket bound to a wildcard address needs it -- else a reply leaves from whatever
// address the route prefers, and a client whose UDP socket is connected to the address it asked
// drops it.
[[nodiscard]] std::error_code enable_reply_source(int fd, int family) noexcept;

[[nodiscard]] SocketAddress local_address(int fd, std::error_code& ec) noexcept;
[[nodiscard]] SocketAddress peer_address(int fd, std::error_code& ec) noexcept;
[[nodiscard]] std::error_code set_nodelay(int fd, bool on) noexcept;
[[nodiscard]] std::error_code set_keepalive(int fd, const KeepAlive& options) noexcept;
[[nodiscard]] std::error_code set_buffer_sizes(int fd, int send_bytes, int receive_bytes) noexcept;

// The msghdr, iovec, peer address and control message a UDP recvfrom/sendto needs, kept
// together so that they outlive the Operation as they must. One Datagram per in-flight datagram
// op.
class Datagram {
 public:
  void prep_recvfrom(Operation& op, int fd, void* buf, std::size_t len) noexcept;
  void prep_sendto(Operation& op, int fd, const void* buf, std::size_t len,
                   const SocketAddress& to) noexcept;
  // An answer to the datagram `request` received: to its source, from the local address it came
  // in on when the socket has enable_reply_source() (else as prep_sendto). `request` may be
  // reused once this is prepared.
  void prep_reply(Operation& op, int fd, const void* buf, std::size_t len,
                  const Datagram& request) noexcept;
  // After a recvfrom completed: who sent it.
  [[nodiscard]] SocketAddress source() const noexcept {
    return SocketAddress::from_native(peer_.data(), msg_.msg_namelen);
  }
  // After a recvfrom on a socket with enable_reply_source(): the local address (port 0) a reply
  // should leave from -- the one the datagram was sent to, or for a broadcast the receiving
  // interface's; for IPv6 with the receiving interface as its scope id. Empty (family
  // AF_UNSPEC) if the kernel did not say, or for a multicast (the route then picks the source).
  [[nodiscard]] SocketAddress reply_source() const noexcept;

 private:
  // The one control message of a send: `size` bytes of `data` (at most kControlBytes in all).
  void set_control(int level, int type, const void* data, std::size_t size) noexcept;

  // Room for one IP_PKTINFO or IPV6_PKTINFO message (in6_pktinfo, 20 bytes, is the larger).
  static constexpr std::size_t kControlBytes = 64;

  SocketAddress peer_;
  iovec iov_{};
  msghdr msg_{};
  alignas(std::max_align_t) unsigned char control_[kControlBytes] = {};
};

}  // namespace zap::zio
