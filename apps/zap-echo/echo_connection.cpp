#include "echo_connection.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>

#include "adaptive_buffer.hpp"

namespace zap::echo {

namespace {

// A peer that vanished is normal life for a server: logged at debug, counted, not a warning.
bool peer_went_away(const zio::Result& r) {
  return r.raw() == -ECONNRESET || r.raw() == -EPIPE || r.raw() == -ECONNABORTED;
}

void note_failure(const zio::Result& r, app::WorkerCounters& counters) {
  if (r.raw() == -ECANCELED) return;  // shutdown
  if (r.raw() == -ETIMEDOUT) {
    spdlog::debug("echo: connection idle too long, closing");
    return;
  }
  counters.add(counters.errors);
  if (peer_went_away(r)) {
    spdlog::debug("echo: peer went away: {}", r.error().message());
  } else {
    spdlog::info("echo: connection error: {}", r.error().message());
  }
}

zell::Task<void> echo_until_done(int fd, app::WorkerCounters& counters,
                                 EchoConnectionOptions options) {
  // From zimalloc, the daemons' allocator: the buffer lives on this worker's thread heap.
  app::AdaptiveBuffer buffer(options.buffer_size, options.max_buffer_size);
  if (!buffer.ok()) co_return note_failure(zio::Result(-ENOMEM), counters);
  // On epoll, the echo nearly always fits in the socket's send buffer, and one direct
  // non-blocking send finishes it without a trip through the loop (a suspension, a readiness
  // check, the same syscall a turn later, a resumption). On io_uring the awaitable's send joins
  // the turn's one batched io_uring_enter, which costs less than a syscall of its own.
  const bool direct_send = zell::current_io_backend() == zio::BackendKind::epoll;
  for (;;) {
    const std::chrono::milliseconds idle(options.idle_timeout_ms->load(std::memory_order_relaxed));
    zio::Result received = co_await zell::recv(fd, buffer.data(), buffer.size(), idle);
    if (!received) co_return note_failure(received, counters);
    const std::size_t length = received.bytes();
    if (length == 0) co_return;  // FIN: everything it sent has been echoed
    counters.add(counters.bytes_in, length);
    // What the direct send cannot take, the awaitable sends when there is room.
    std::size_t sent = 0;
    if (direct_send) {
      if (const ssize_t n = ::send(fd, buffer.data(), length, MSG_NOSIGNAL | MSG_DONTWAIT); n > 0) {
        sent = static_cast<std::size_t>(n);
        counters.add(counters.bytes_out, sent);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        co_return note_failure(zio::Result(-errno), counters);
      }
    }
    while (sent < length) {
      zio::Result r = co_await zell::send(fd, buffer.data() + sent, length - sent, idle);
      if (!r) co_return note_failure(r, counters);
      sent += r.bytes();
      counters.add(counters.bytes_out, r.bytes());
    }
    counters.add(counters.requests);
    buffer.adapt(length);  // (every byte of it is sent: the buffer may move)
  }
}

}  // namespace

// It closes through the worker's loop (zell::close), not ::close: zio's epoll backend keeps
// per-loop state about each fd number, which only a close it sees resets.
zell::Task<void> echo_connection(zio::UniqueFd socket, app::ConnectionGate::Ticket ticket,
                                 EchoConnectionOptions options) {
  co_await echo_until_done(socket.get(), ticket.counters(), options);
  co_await zell::close(socket.release());
}

}  // namespace zap::echo
