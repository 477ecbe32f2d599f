#include "proxy_server.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zio/socket.hpp>

namespace zap::proxy {

ProxyServer::ProxyServer(const ProxySettings& settings, std::size_t workers,
                         app::Counters& counters)
    : workers_(workers == 0 ? 1 : workers),
      shared_(settings),
      tcp_("proxy", settings.listeners, settings.accept_mode, workers,
           settings.limits.max_connections, counters),
      proxy_protocol_(settings.proxy_protocol) {
  proxy_protocol_.resize(settings.listeners.size(), false);
  for (const PoolSettings& pool : settings.pools) {
    const HealthCheckSettings& h = pool.health_check;
    pools_.push_back(
        {pool.name, h,
         std::make_unique<BackendPool>(
             pool.backends, pool.balance,
             HealthRules{static_cast<int>(h.rise), static_cast<int>(h.fall), h.enabled})});
  }
  for (std::size_t i = 0; i < settings.listeners.size(); ++i) {
    const std::size_t pool = i < settings.listener_pool.size() ? settings.listener_pool[i] : 0;
    listener_pool_.push_back(pools_[pool].backends.get());
  }
  for (std::size_t p = 0; p < pools_.size(); ++p) {
    const BackendPool& pool = *pools_[p].backends;
    if (pool.size() == 0) continue;  // the default pool, when no listener uses it
    std::string names;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      names += (i == 0 ? "" : ", ") + pool.at(i).name +
               (pool.at(i).weight != 1 ? " (weight " + std::to_string(pool.at(i).weight) + ")"
                                       : std::string());
    }
    const HealthCheckSettings& h = pools_[p].health;
    spdlog::info("proxy: pool {}: {} backend(s), {}: {}; health checks {}", pools_[p].name,
                 pool.size(), to_string(settings.pools[p].balance), names,
                 h.enabled ? "every " + std::to_string(h.interval_ms) + " ms" : std::string("off"));
  }
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
                                *listener_pool_[listener], proxy_protocol_[listener]);
      },
      // Over max_connections: closed at once. A TCP proxy has no protocol to refuse politely in.
      [](zio::UniqueFd socket) -> zell::Task<void> { co_await zell::close(socket.release()); });
  std::size_t spread = 0;  // checkers of all pools, spread over the workers
  for (Pool& pool : pools_) {
    if (!pool.health.enabled) continue;
    for (std::size_t i = 0; i < pool.backends->size(); ++i) {
      checkers_.push_back(
          runtime.spawn_on_worker(spread++ % workers_, check_health(pool, pool.backends->at(i))));
    }
  }
}

zell::Task<void> ProxyServer::check_health(Pool& pool, Backend& backend) {
  const std::chrono::milliseconds timeout(pool.health.timeout_ms);
  const std::chrono::milliseconds interval(pool.health.interval_ms);
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
    if (pool.backends->check_result(backend, result.ok())) {
      if (result.ok()) {
        spdlog::info("proxy: backend {} of pool {} is up ({} backend(s) up)", backend.name,
                     pool.name, pool.backends->up_count());
      } else {
        spdlog::warn("proxy: backend {} of pool {} is down: health check: {} ({} backend(s) up)",
                     backend.name, pool.name, result.error().message(), pool.backends->up_count());
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
  for (const Pool& pool : pools_) {
    for (std::size_t i = 0; i < pool.backends->size(); ++i) {
      const Backend& b = pool.backends->at(i);
      out.push_back({{"pool", pool.name},
                     {"address", b.name},
                     {"weight", b.weight},
                     {"up", b.up.load(std::memory_order_relaxed)},
                     {"active", b.active.load(std::memory_order_relaxed)},
                     {"connections", b.connections.load(std::memory_order_relaxed)},
                     {"connect_failures", b.connect_failures.load(std::memory_order_relaxed)},
                     {"bytes_to_backend", b.bytes_to_backend.load(std::memory_order_relaxed)},
                     {"bytes_from_backend", b.bytes_from_backend.load(std::memory_order_relaxed)}});
    }
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
    for (const Pool& pool : pools_) {
      for (std::size_t i = 0; i < pool.backends->size(); ++i) {
        const Backend& b = pool.backends->at(i);
        const std::uint64_t values[] = {
            b.up.load(std::memory_order_relaxed) ? 1u : 0u,
            static_cast<std::uint64_t>(b.active.load(std::memory_order_relaxed)),
            b.connections.load(std::memory_order_relaxed),
            b.connect_failures.load(std::memory_order_relaxed),
            b.bytes_to_backend.load(std::memory_order_relaxed),
            b.bytes_from_backend.load(std::memory_order_relaxed)};
        out += std::string(kSeries[s].name) + "{pool=\"" + pool.name + "\",backend=\"" + b.name +
               "\"} " + std::to_string(values[s]) + "\n";
      }
    }
  }
  return out;
}

}  // namespace zap::proxy
