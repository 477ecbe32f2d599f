// UDP awaitables: zell's IO covers streams; a datagram needs its peer address kept beside the
// operation, which zio::Datagram does. These wrap the two in a zell::IoAwaiter.
//
//   zio::Datagram in, out;
//   zio::Result r = co_await recv_from(in, fd, buf, sizeof buf);
//   if (r) co_await send_to(out, fd, buf, r.bytes(), in.source());
//   if (r) co_await reply_to(out, fd, buf, r.bytes(), in);   // from the address `in` came to
//
// The Datagram must outlive the await (keep it in the awaiting frame). Thread-safety: as zell's.
#pragma once

#include <cstddef>

#include <zap/zell/io.hpp>
#include <zap/zio/socket.hpp>

namespace zap::app {

[[nodiscard]] inline zell::IoAwaiter recv_from(zio::Datagram& datagram, int fd, void* buf,
                                               std::size_t len) noexcept {
  return zell::IoAwaiter([&](zio::Operation& op) { datagram.prep_recvfrom(op, fd, buf, len); });
}

[[nodiscard]] inline zell::IoAwaiter send_to(zio::Datagram& datagram, int fd, const void* buf,
                                             std::size_t len,
                                             const zio::SocketAddress& to) noexcept {
  return zell::IoAwaiter([&](zio::Operation& op) { datagram.prep_sendto(op, fd, buf, len, to); });
}

// An answer to `request` (received with recv_from): to its source, from the address it was sent
// to (zio::Datagram::prep_reply; the socket needs zio::enable_reply_source).
[[nodiscard]] inline zell::IoAwaiter reply_to(zio::Datagram& datagram, int fd, const void* buf,
                                              std::size_t len,
                                              const zio::Datagram& request) noexcept {
  return zell::IoAwaiter(
      [&](zio::Operation& op) { datagram.prep_reply(op, fd, buf, len, request); });
}

}  // namespace zap::app
