// Start-up helpers that bind sockets and turn failures into one readable exception.
//
//   zio::UniqueFd fd = listen_tcp(address, /*reuse_port=*/true);   // "cannot listen on ...: ..."
//   listen_tcp(address, false, {.nodelay = true});   // every accepted socket has TCP_NODELAY
//   std::string bound = bound_address(fd.get());                   // "127.0.0.1:41234" for port 0
#pragma once

#include <optional>
#include <string>

#include <zap/zio/address.hpp>
#include <zap/zio/fd.hpp>
#include <zap/zio/socket.hpp>

namespace zap::app {

// Socket options a listener hands down to every connection it accepts (Linux copies them), set
// before listen() so that no connection goes without them.
struct AcceptedOptions {
  bool nodelay = false;                     // TCP_NODELAY
  std::optional<zio::KeepAlive> keepalive;  // SO_KEEPALIVE and its timings
};

// A listening TCP socket; throws std::runtime_error naming the address on failure. `backlog`:
// connections the kernel completes and queues for accept() (it caps this at
// net.core.somaxconn); past it, a connection burst's SYNs are dropped and their clients retry
// after a second or more.
zio::UniqueFd listen_tcp(const zio::SocketAddress& address, bool reuse_port,
                         const AcceptedOptions& accepted = {}, int backlog = 1024);
// A bound UDP socket (SO_REUSEPORT when asked); throws std::runtime_error on failure.
zio::UniqueFd bind_udp(const zio::SocketAddress& address, bool reuse_port);
// Throws std::runtime_error ("cannot listen on 127.0.0.1:80: Address already in use (...)") if
// another socket already has `address` (type SOCK_STREAM: a listener; SOCK_DGRAM: any bound
// socket). Called once per address before binding SO_REUSEPORT sockets to it: those would
// otherwise bind beside another process's (of the same user) and share its traffic, where nginx
// refuses to start. Port 0: nothing to check.
void refuse_address_in_use(const zio::SocketAddress& address, int type);
// The address the kernel gave `fd` (resolves port 0).
zio::SocketAddress bound_address(int fd);

}  // namespace zap::app
