// Start-up helpers that bind sockets and turn failures into one readable exception.
//
//   zio::UniqueFd fd = listen_tcp(address, /*reuse_port=*/true);   // "cannot listen on ...: ..."
//   std::string bound = bound_address(fd.get());                   // "127.0.0.1:41234" for port 0
#pragma once

#include <string>

#include <zap/zio/address.hpp>
#include <zap/zio/fd.hpp>

namespace zap::app {

// A listening TCP socket; throws std::runtime_error naming the address on failure.
zio::UniqueFd listen_tcp(const zio::SocketAddress& address, bool reuse_port);
// A bound UDP socket (SO_REUSEPORT when asked); throws std::runtime_error on failure.
zio::UniqueFd bind_udp(const zio::SocketAddress& address, bool reuse_port);
// The address the kernel gave `fd` (resolves port 0).
zio::SocketAddress bound_address(int fd);

}  // namespace zap::app
