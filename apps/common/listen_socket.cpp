#include "listen_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <zap/zio/socket.hpp>

namespace zap::app {

namespace {

[[noreturn]] void fail(const char* what, const zio::SocketAddress& address, std::error_code ec,
                       const char* why = "") {
  throw std::runtime_error(std::string(what) + " " + address.to_string() + ": " + ec.message() +
                           why);
}

}  // namespace

zio::UniqueFd listen_tcp(const zio::SocketAddress& address, bool reuse_port,
                         const AcceptedOptions& accepted, int backlog) {
  std::error_code ec;
  zio::ListenOptions options;
  options.backlog = backlog;
  options.reuse_port = reuse_port;
  options.nodelay = accepted.nodelay;
  options.keepalive = accepted.keepalive;
  options.v6_only = address.family() == AF_INET6;  // "[::]" and "0.0.0.0" may both be listed
  zio::UniqueFd fd = zio::listen_stream(address, options, ec);
  if (ec) fail("cannot listen on", address, ec);
  return fd;
}

zio::UniqueFd bind_udp(const zio::SocketAddress& address, bool reuse_port) {
  std::error_code ec;
  zio::UniqueFd fd = zio::open_socket(address.family(), SOCK_DGRAM, ec);
  if (ec) fail("cannot open a UDP socket for", address, ec);
  const int one = 1;
  if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    fail("cannot set SO_REUSEPORT for", address, {errno, std::system_category()});
  }
  if (address.family() == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    fail("cannot set IPV6_V6ONLY for", address, {errno, std::system_category()});
  }
  // Replies leave from the address each datagram came to (a wildcard socket has many).
  if (const std::error_code source = zio::enable_reply_source(fd.get(), address.family())) {
    fail("cannot ask for datagrams' local addresses on", address, source);
  }
  if (::bind(fd.get(), address.data(), address.size()) != 0) {
    fail("cannot bind UDP", address, {errno, std::system_category()});
  }
  return fd;
}

void refuse_address_in_use(const zio::SocketAddress& address, int type) {
  if (address.port() == 0) return;
  std::error_code ec;
  const zio::UniqueFd probe = zio::open_socket(address.family(), type, ec);
  if (ec) return;  // the real bind will say what is wrong
  const int one = 1;
  // TCP: SO_REUSEADDR as the listeners have it, so that connections of an earlier run still in
  // TIME_WAIT do not count as a user; only a listening socket then conflicts. UDP: without it,
  // as with it any number of sockets could bind the port.
  if (type == SOCK_STREAM)
    (void)::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.family() == AF_INET6) {
    (void)::setsockopt(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (::bind(probe.get(), address.data(), address.size()) != 0 && errno == EADDRINUSE) {
    fail(type == SOCK_STREAM ? "cannot listen on" : "cannot bind UDP", address,
         std::error_code(EADDRINUSE, std::system_category()),
         " (another process has it: the listeners' SO_REUSEPORT sockets would share its traffic)");
  }
}

zio::SocketAddress bound_address(int fd) {
  std::error_code ec;
  zio::SocketAddress address = zio::local_address(fd, ec);
  if (ec) throw std::system_error(ec, "getsockname");
  return address;
}

}  // namespace zap::app
