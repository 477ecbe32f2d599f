#include "echo_server.hpp"

#include <cerrno>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>

#include "echo_connection.hpp"
#include "listen_socket.hpp"
#include "udp_echo.hpp"

namespace zap::echo {

EchoServer::EchoServer(const EchoSettings& settings, std::size_t workers, app::Counters& counters)
    : mode_(settings.accept_mode),
      workers_(workers == 0 ? 1 : workers),
      buffer_size_(static_cast<std::size_t>(settings.buffer_size)),
      idle_timeout_ms_(settings.limits.idle_timeout_ms),
      counters_(counters),
      gate_(settings.limits.max_connections) {
  const bool per_worker = mode_ == AcceptMode::kPerWorker;
  const std::size_t copies = per_worker ? workers : 1;
  for (const ListenerSettings& wanted : settings.listeners) {
    Listener listener;
    listener.udp = wanted.udp;
    zio::SocketAddress address = wanted.address;
    for (std::size_t i = 0; i < copies; ++i) {
      listener.sockets.push_back(wanted.udp ? app::bind_udp(address, per_worker)
                                            : app::listen_tcp(address, per_worker));
      // Port 0: the first socket gets a free port; its siblings must share that port.
      if (i == 0) address = app::bound_address(listener.sockets.front().get());
    }
    listener.bound = address.to_string();
    listeners_.push_back(std::move(listener));
  }
}

EchoServer::~EchoServer() = default;

std::vector<std::string> EchoServer::bound_addresses() const {
  std::vector<std::string> out;
  for (const Listener& listener : listeners_) out.push_back(listener.bound);
  return out;
}

void EchoServer::start(zell::Runtime& runtime) {
  for (Listener& listener : listeners_) {
    for (std::size_t i = 0; i < listener.sockets.size(); ++i) {
      const int fd = listener.sockets[i].get();
      const bool pinned = mode_ == AcceptMode::kPerWorker;
      if (listener.udp) {
        // UDP: a loop per socket, pinned like the TCP acceptors in per_worker mode.
        auto task = udp_echo(fd, counters_.worker(i));
        tasks_.push_back(pinned ? runtime.spawn_on_worker(i, std::move(task))
                                : runtime.spawn(std::move(task)));
      } else {
        auto task = accept_loop(fd, i, pinned);
        tasks_.push_back(pinned ? runtime.spawn_on_worker(i, std::move(task))
                                : runtime.spawn(std::move(task)));
      }
    }
    spdlog::info("echo: {} {} on {}{}", listener.udp ? "udp" : "tcp", "echo", listener.bound,
                 mode_ == AcceptMode::kPerWorker
                     ? " (" + std::to_string(listener.sockets.size()) + " SO_REUSEPORT sockets)"
                     : std::string(" (shared acceptor)"));
  }
}

zell::Task<void> EchoServer::accept_loop(int listen_fd, std::size_t pinned_worker, bool pinned) {
  for (;;) {
    zio::Result accepted = co_await zell::accept(listen_fd);
    if (accepted.raw() == -ECANCELED) co_return;
    if (!accepted) {
      // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on a full descriptor table.
      app::WorkerCounters& here = counters_.worker(zell::current_worker_index().value_or(0));
      here.add(here.errors);
      spdlog::warn("echo: accept failed: {}", accepted.error().message());
      co_await zell::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    zio::UniqueFd socket(accepted.fd());
    // per_worker: the connection stays on its acceptor's worker (shard per core). shared: the
    // one acceptor deals connections round-robin. Either way a connection never migrates, so
    // its socket lives in one IO loop.
    const std::size_t worker =
        pinned ? pinned_worker : next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_;
    app::WorkerCounters& counters = counters_.worker(worker);
    std::optional<ConnectionGate::Ticket> ticket = gate_.try_enter(counters);
    if (!ticket) {
      spdlog::debug("echo: over max_connections, refusing a connection");
      zell::spawn_on_worker(worker, refuse_connection(std::move(socket))).detach();
      continue;
    }
    EchoConnectionOptions options{buffer_size_, &idle_timeout_ms_};
    zell::spawn_on_worker(worker, echo_connection(std::move(socket), std::move(*ticket), options))
        .detach();
  }
}

void EchoServer::stop_accepting() {
  for (auto& task : tasks_) task.cancel();
  for (auto& task : tasks_) {
    try {
      task.get();
    } catch (const zell::TaskCancelled&) {
      // expected: acceptors and UDP loops end only by cancellation
    } catch (const std::exception& e) {
      spdlog::warn("echo: listener task ended with {}", e.what());
    }
  }
  tasks_.clear();
  for (Listener& listener : listeners_) listener.sockets.clear();
}

bool EchoServer::drain(std::chrono::milliseconds grace) {
  gate_.begin_drain();
  return gate_.wait_idle(grace);
}

void EchoServer::set_limits(const EchoLimits& limits) noexcept {
  gate_.set_limit(limits.max_connections);
  idle_timeout_ms_.store(limits.idle_timeout_ms, std::memory_order_relaxed);
}

}  // namespace zap::echo
