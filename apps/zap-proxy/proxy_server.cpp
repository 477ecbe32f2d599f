#include "proxy_server.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zio/socket.hpp>

namespace zap::proxy {

ProxyServer::ProxyServer(const ProxySettings& settings, std::size_t workers,
                         app::Counters& counters)
    : health_(settings.health_check),
      workers_(workers == 0 ? 1 : workers),
      pool_(
          settings.backends, settings.balance,
          HealthRules{static_cast<int>(settings.health_check.rise),
                      static_cast<int>(settings.health_check.fall), settings.health_check.enabled}),
      shared_(settings, pool_),
      tcp_("proxy", settings.listeners, settings.accept_mode, workers,
           settings.limits.max_connections, counters),
      proxy_protocol_(settings.proxy_protocol) {
  proxy_protocol_.resize(settings.listeners.size(), false);
  std::string names;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    names += (i == 0 ? "" : ", ") + pool_.at(i).name +
             (pool_.at(i).weight != 1 ? " (weight " + std::to_string(pool_.at(i).weight) + ")"
                                      : std::string());
  }
  spdlog::info("proxy: {} backend(s), {}: {}; health checks {}", pool_.size(),
               to_string(settings.balance), names,
               health_.enabled ? "every " + std::to_string(health_.interval_ms) + " ms"
                               : std::string("off"));
}

ProxyServer::~ProxyServer() {
  for (auto& checker : checkers_) checker.cancel();
}

void ProxyServer::start(zell::Runtime& runtime) {
  tcp_.start(
      runtime,
      [this](zio::UniqueFd socket, app::ConnectionGate::Ticket ticket, std::size_t,
             std::size_t listener) {
        return proxy_connection(std::move(socket), std::move(ticket), shared_,
                                proxy_protocol_[listener]);
      },
      // Over max_connections: closed at once. A TCP proxy has no protocol to refuse politely in.
      [](zio::UniqueFd socket) -> zell::Task<void> { co_await zell::close(socket.release()); });
  if (!health_.enabled) return;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    checkers_.push_back(runtime.spawn_on_worker(i % workers_, check_health(pool_.at(i))));
  }
}

zell::Task<void> ProxyServer::check_health(Backend& backend) {
  const std::chrono::milliseconds timeout(health_.timeout_ms);
  const std::chrono::milliseconds interval(health_.interval_ms);
  for (;;) {
    std::error_code ec;
    zio::UniqueFd socket = zio::open_socket(backend.address.family(), SOCK_STREAM, ec);
    zio::Result result(-static_cast<std::int64_t>(ec.value()));
    if (!ec) {
      result = co_await zell::connect(socket.get(), backend.address, timeout);
      if (result.ok() && backend.send_proxy != app::ProxyProtocol::kOff) {
        // A backend that expects a PROXY header gets one on checks too (HAProxy's
        // check-send-proxy): LOCAL, the proxy's own connection. Without it the backend would
        // count every check as a broken client. A new socket's buffer takes it whole.
        char header[app::kMaxProxyHeader];
        const std::size_t size = app::write_proxy_local_header(backend.send_proxy, header);
        (void)::send(socket.get(), header, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      co_await zell::close(socket.release());
    }
    if (pool_.check_result(backend, result.ok())) {
      if (result.ok()) {
        spdlog::info("proxy: backend {} is up ({} backend(s) up)", backend.name, pool_.up_count());
      } else {
        spdlog::warn("proxy: backend {} is down: health check: {} ({} backend(s) up)", backend.name,
                     result.error().message(), pool_.up_count());
      }
    }
    co_await zell::sleep_for(interval);
  }
}

void ProxyServer::stop_accepting() {
  for (auto& checker : checkers_) checker.cancel();
  for (auto& checker : checkers_) {
    try {
      checker.get();
    } catch (const zell::TaskCancelled&) {
      // expected: checkers end only by cancellation
    }
  }
  checkers_.clear();
  tcp_.stop_accepting();
}

void ProxyServer::set_limits(const ProxyLimits& limits) noexcept {
  tcp_.set_max_connections(limits.max_connections);
  shared_.set_limits(limits);
}

nlohmann::json ProxyServer::render_backends_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    const Backend& b = pool_.at(i);
    out.push_back({{"address", b.name},
                   {"weight", b.weight},
                   {"up", b.up.load(std::memory_order_relaxed)},
                   {"active", b.active.load(std::memory_order_relaxed)},
                   {"connections", b.connections.load(std::memory_order_relaxed)},
                   {"connect_failures", b.connect_failures.load(std::memory_order_relaxed)},
                   {"bytes_to_backend", b.bytes_to_backend.load(std::memory_order_relaxed)},
                   {"bytes_from_backend", b.bytes_from_backend.load(std::memory_order_relaxed)}});
  }
  return out;
}

std::string ProxyServer::render_backends_prometheus() const {
  struct Series {
    const char* name;
    const char* type;
    const char* help;
  };
  static constexpr Series kSeries[] = {
      {"zap_proxy_backend_up", "gauge", "1 if the backend is up"},
      {"zap_proxy_backend_active", "gauge", "Connections relayed to the backend now"},
      {"zap_proxy_backend_connections_total", "counter", "Connections relayed to the backend"},
      {"zap_proxy_backend_connect_failures_total", "counter",
       "Connects to the backend that failed"},
      {"zap_proxy_backend_bytes_to_backend_total", "counter", "Bytes sent to the backend"},
      {"zap_proxy_backend_bytes_from_backend_total", "counter", "Bytes received from the backend"},
  };
  std::string out;
  for (std::size_t s = 0; s < std::size(kSeries); ++s) {
    out += std::string("# HELP ") + kSeries[s].name + " " + kSeries[s].help + "\n# TYPE " +
           kSeries[s].name + " " + kSeries[s].type + "\n";
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      const Backend& b = pool_.at(i);
      const std::uint64_t values[] = {
          b.up.load(std::memory_order_relaxed) ? 1u : 0u,
          static_cast<std::uint64_t>(b.active.load(std::memory_order_relaxed)),
          b.connections.load(std::memory_order_relaxed),
          b.connect_failures.load(std::memory_order_relaxed),
          b.bytes_to_backend.load(std::memory_order_relaxed),
          b.bytes_from_backend.load(std::memory_order_relaxed)};
      out += std::string(kSeries[s].name) + "{backend=\"" + b.name + "\"} " +
             std::to_string(values[s]) + "\n";
    }
  }
  return out;
}

}  // namespace zap::proxy
