#include "udp_echo.hpp"

#include <cerrno>
#include <memory>

#include <spdlog/spdlog.h>

#include "datagram_io.hpp"

namespace zap::echo {

namespace {
constexpr std::size_t kMaxDatagram = 65536;
}

zell::Task<void> udp_echo(int socket, app::WorkerCounters& counters) {
  const auto buffer = std::make_unique<std::byte[]>(kMaxDatagram);
  zio::Datagram in;
  zio::Datagram out;
  for (;;) {
    zio::Result received = co_await app::recv_from(in, socket, buffer.get(), kMaxDatagram);
    if (received.raw() == -ECANCELED) co_return;
    if (!received) {
      counters.add(counters.errors);
      spdlog::debug("echo: udp recv failed: {}", received.error().message());
      continue;
    }
    counters.add(counters.bytes_in, received.bytes());
    // From the address the client asked (the socket may be bound to a wildcard one).
    zio::Result sent = co_await app::reply_to(out, socket, buffer.get(), received.bytes(), in);
    if (sent.raw() == -ECANCELED) co_return;
    if (!sent) {
      counters.add(counters.errors);
      continue;
    }
    counters.add(counters.bytes_out, sent.bytes());
    counters.add(counters.requests);
  }
}

}  // namespace zap::echo
