#include "listen_socket.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zap/zio/socket.hpp>

namespace zap::app {
namespace {

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &size), 0);
  return value;
}

// What StreamServer's accepted options rely on: Linux copies a listener's TCP_NODELAY and
// keepalive settings (set before listen()) to each socket it accepts, so the daemons set them
// once per listener.
TEST(ListenSocket, AcceptedSocketsInheritTheListenersNodelayAndKeepalive) {
  std::error_code ec;
  const zio::UniqueFd listener = listen_tcp(
      zio::SocketAddress::parse("127.0.0.1:0", ec), /*reuse_port=*/false,
      {.nodelay = true,
       .keepalive = zio::KeepAlive{.idle_seconds = 61, .interval_seconds = 11, .probes = 6}});
  const zio::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const zio::SocketAddress bound = bound_address(listener.get());
  ASSERT_EQ(::connect(client.get(), bound.data(), bound.size()), 0);
  int accepted = -1;
  for (int i = 0; i < 1000 && accepted < 0; ++i) {  // the listener is non-blocking
    accepted = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) ::usleep(1000);
  }
  ASSERT_GE(accepted, 0);
  const zio::UniqueFd conn(accepted);
  EXPECT_EQ(option(conn.get(), IPPROTO_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(option(conn.get(), SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(option(conn.get(), IPPROTO_TCP, TCP_KEEPIDLE), 61);
  EXPECT_EQ(option(conn.get(), IPPROTO_TCP, TCP_KEEPINTVL), 11);
  EXPECT_EQ(option(conn.get(), IPPROTO_TCP, TCP_KEEPCNT), 6);
}

TEST(ListenSocket, WithoutAcceptedOptionsTheKernelDefaultsStay) {
  std::error_code ec;
  const zio::UniqueFd listener =
      listen_tcp(zio::SocketAddress::parse("127.0.0.1:0", ec), /*reuse_port=*/false);
  EXPECT_EQ(option(listener.get(), IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(option(listener.get(), SOL_SOCKET, SO_KEEPALIVE), 0);
}

}  // namespace
}  // namespace zap::app
