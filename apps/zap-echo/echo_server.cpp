#include "echo_server.hpp"

#include <spdlog/spdlog.h>

#include "echo_connection.hpp"
#include "lingering_close.hpp"
#include "listen_socket.hpp"
#include "udp_echo.hpp"

namespace zap::echo {

namespace {

std::vector<zio::SocketAddress> tcp_addresses(const EchoSettings& settings) {
  std::vector<zio::SocketAddress> out;
  for (const ListenerSettings& listener : settings.listeners) {
    if (!listener.udp) out.push_back(listener.address);
  }
  return out;
}

}  // namespace

EchoServer::EchoServer(const EchoSettings& settings, std::size_t workers, app::Counters& counters)
    : buffer_size_(static_cast<std::size_t>(settings.buffer_size)),
      max_buffer_size_(static_cast<std::size_t>(settings.max_buffer_size)),
      idle_timeout_ms_(settings.limits.idle_timeout_ms),
      counters_(counters),
      // TCP_NODELAY on every connection (from its listener): an echo goes back in pieces of its
      // buffer, and with Nagle each piece smaller than a segment would wait for the ACK of the
      // one before -- which a client that waits for its whole message delays by 40 ms.
      tcp_("echo", tcp_addresses(settings), settings.accept_mode, workers,
           settings.limits.max_connections, counters, {.nodelay = true, .keepalive = {}}) {
  const bool per_worker = settings.accept_mode == app::AcceptMode::kPerWorker;
  if (per_worker) {  // every UDP address before any is bound (they may overlap, as for TCP)
    for (const ListenerSettings& wanted : settings.listeners) {
      if (wanted.udp) app::refuse_address_in_use(wanted.address, SOCK_DGRAM);
    }
  }
  for (std::size_t index = 0; index < settings.listeners.size(); ++index) {
    const ListenerSettings& wanted = settings.listeners[index];
    udp_.push_back(wanted.udp);
    if (!wanted.udp) continue;
    UdpListener listener;
    zio::SocketAddress address = wanted.address;
    for (std::size_t i = 0; i < (per_worker ? std::max<std::size_t>(workers, 1) : 1); ++i) {
      listener.sockets.push_back(app::bind_udp(address, per_worker));
      if (i == 0) address = app::bound_address(listener.sockets.front().get());
    }
    listener.bound = address.to_string();
    udp_listeners_.push_back(std::move(listener));
  }
}

EchoServer::~EchoServer() = default;

std::vector<std::string> EchoServer::bound_addresses() const {
  const std::vector<std::string> tcp = tcp_.bound_addresses();
  std::vector<std::string> out;
  std::size_t next_tcp = 0;
  std::size_t next_udp = 0;
  for (const bool udp : udp_)
    out.push_back(udp ? udp_listeners_[next_udp++].bound : tcp[next_tcp++]);
  return out;
}

void EchoServer::start(zell::Runtime& runtime) {
  tcp_.start(
      runtime,
      [this](zio::UniqueFd socket, app::ConnectionGate::Ticket ticket, std::size_t, std::size_t) {
        return echo_connection(
            std::move(socket), std::move(ticket),
            EchoConnectionOptions{buffer_size_, max_buffer_size_, &idle_timeout_ms_});
      },
      [](zio::UniqueFd socket, std::size_t) { return app::lingering_close(std::move(socket)); });
  const bool pinned = tcp_.mode() == app::AcceptMode::kPerWorker;
  for (UdpListener& listener : udp_listeners_) {
    for (std::size_t i = 0; i < listener.sockets.size(); ++i) {
      auto task = udp_echo(listener.sockets[i].get(), counters_.worker(i));
      udp_tasks_.push_back(pinned ? runtime.spawn_on_worker(i, std::move(task))
                                  : runtime.spawn(std::move(task)));
    }
    spdlog::info("echo: udp on {}{}", listener.bound,
                 pinned ? " (" + std::to_string(listener.sockets.size()) + " SO_REUSEPORT sockets)"
                        : std::string(" (one socket)"));
  }
}

void EchoServer::stop_accepting() {
  tcp_.stop_accepting();
  for (auto& task : udp_tasks_) task.cancel();
  for (auto& task : udp_tasks_) {
    try {
      task.get();
    } catch (const zell::TaskCancelled&) {
      // expected: UDP loops end only by cancellation
    } catch (const std::exception& e) {
      spdlog::warn("echo: udp task ended with {}", e.what());
    }
  }
  udp_tasks_.clear();
  for (UdpListener& listener : udp_listeners_) listener.sockets.clear();
}

void EchoServer::set_limits(const EchoLimits& limits) noexcept {
  tcp_.set_max_connections(limits.max_connections);
  idle_timeout_ms_.store(limits.idle_timeout_ms, std::memory_order_relaxed);
}

}  // namespace zap::echo
