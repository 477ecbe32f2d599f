#include "proxy_server.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zio/socket.hpp>

#include "log_throttle.hpp"

namespace zap::proxy {

namespace {

// "3 backend(s), round_robin: a, b (weight 2), c; health checks every 2000 ms"
std::string describe(const PoolSettings& settings, const BackendPool& pool) {
  std::string names;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    names += (i == 0 ? "" : ", ") + pool.at(i).name;
    if (pool.weight(i) != 1) names += " (weight " + std::to_string(pool.weight(i)) + ")";
    if (pool.backup(i)) names += " (backup)";
  }
  const HealthCheckSettings& h = settings.health_check;
  return std::to_string(pool.size()) + " backend(s), " + to_string(settings.balance) + ": " +
         names + "; health checks " +
         (h.enabled ? "every " + std::to_string(h.interval_ms) + " ms" : std::string("off")) +
         (settings.queue_timeout_ms > 0
              ? "; clients queue up to " + std::to_string(settings.queue_timeout_ms) + " ms"
              : std::string());
}

void append(std::string& list, const std::string& item) {
  list += (list.empty() ? "" : ", ") + item;
}

}  // namespace

ProxyServer::RunningPool::RunningPool(const PoolSettings& pool, const RunningPool* previous)
    : settings(pool),
      backends(pool.backends, pool.balance,
               HealthRules{.rise = static_cast<int>(pool.health_check.rise),
                           .fall = static_cast<int>(pool.health_check.fall),
                           .passive = pool.health_check.enabled,
                           .checked = pool.health_check.enabled},
               previous != nullptr ? &previous->backends : nullptr),
      queue(previous != nullptr ? previous->queue : std::make_shared<PoolQueue>()) {}

ProxyServer::ProxyServer(const ProxySettings& settings, std::size_t workers,
                         app::Counters& counters)
    : workers_(workers == 0 ? 1 : workers),
      shared_(settings),
      // Every client's socket gets TCP_NODELAY and keepalive from its listener (see
      // proxy_connection), not from setsockopt calls of its own.
      tcp_("proxy", settings.listeners, settings.accept_mode, workers,
           settings.limits.max_connections, counters,
           {.nodelay = true, .keepalive = zio::KeepAlive{}}),
      proxy_protocol_(settings.proxy_protocol),
      pools_(make_pool_set(settings, nullptr, nullptr)) {
  proxy_protocol_.resize(settings.listeners.size(), false);
  // A client and its backend socket: near the descriptor limit the acceptors leave a client in
  // the backlog rather than accept it without a descriptor left for its backend (settled once
  // its backend connect has been tried: see proxy_connection).
  tcp_.set_descriptors_per_connection(2, /*settled_by_ticket=*/true);
  if (!settings.connection_log.empty()) {
    connection_log_file_ =
        std::make_unique<app::LogFile>(settings.connection_log, "connection_log");
    for (std::size_t i = 0; i < workers_; ++i) {
      connection_logs_.push_back(std::make_unique<ConnectionLog>(*connection_log_file_));
    }
  }
  const std::shared_ptr<const PoolSet> pools = current_pools();
  for (const std::shared_ptr<RunningPool>& pool : pools->pools) {
    if (pool->backends.size() == 0) continue;  // the default pool, when no listener uses it
    spdlog::info("proxy: pool {}: {}", pool->settings.name,
                 describe(pool->settings, pool->backends));
  }
  for (std::size_t i = 0; i < pools->routing.size(); ++i) {
    if (!pools->routing[i]->sni.empty()) {
      spdlog::info("proxy: listener {} routes by server name: {}", i, pools->listener_routes[i]);
    }
  }
}

ProxyServer::~ProxyServer() {
  // Normally stopped already (stop_accepting). If not, a cancelled checker may still run on its
  // worker for a moment: it holds its pool itself, and nothing of this object.
  for (Checkers& checkers : checkers_) {
    for (auto& task : checkers.tasks) task.cancel();
  }
  // Each connection log buffer writes what is left when it is destroyed, after the runtime's
  // threads are gone (and with them every connection that could still add a line).
  for (auto& flusher : log_flushers_) flusher.cancel();
}

std::shared_ptr<const ProxyServer::PoolSet> ProxyServer::make_pool_set(
    const ProxySettings& settings, const PoolSet* running, std::string* changes) {
  auto set = std::make_shared<PoolSet>();
  for (const PoolSettings& wanted : settings.pools) {
    std::shared_ptr<RunningPool> previous;
    for (std::size_t i = 0; running != nullptr && i < running->pools.size(); ++i) {
      if (running->pools[i]->settings.name == wanted.name) previous = running->pools[i];
    }
    if (previous && previous->settings == wanted) {
      set->pools.push_back(std::move(previous));
      continue;
    }
    set->pools.push_back(std::make_shared<RunningPool>(wanted, previous.get()));
    if (changes == nullptr || running == nullptr) continue;
    const BackendPool& pool = set->pools.back()->backends;
    append(*changes, "pool " + wanted.name +
                         (previous ? " changed (" + std::to_string(pool.kept()) + " of " +
                                         std::to_string(pool.size()) + " backend(s) kept)"
                                   : std::string(" added")));
  }
  auto route_to = [&](std::size_t index) {
    const std::shared_ptr<RunningPool>& pool = set->pools[index];
    return PoolRoute{std::shared_ptr<BackendPool>(pool, &pool->backends),
                     pool->settings.name,
                     pool->queue,
                     pool->settings.queue_timeout_ms,
                     pool->settings.max_queue,
                     pool->settings.abort_on_close};
  };
  for (std::size_t i = 0; i < settings.listeners.size(); ++i) {
    const std::size_t pool = i < settings.listener_pool.size() ? settings.listener_pool[i] : 0;
    auto routing = std::make_shared<Routing>();
    routing->fallback = route_to(pool);
    std::string described = set->pools[pool]->settings.name;
    if (i < settings.sni_routes.size()) {
      for (const SniRoute& route : settings.sni_routes[i]) {
        described += " |";
        for (const std::string& name : route.names) {
          routing->sni.add(name, routing->sni_pools.size());
          described += " " + name;
        }
        described += " -> " + set->pools[route.pool]->settings.name;
        routing->sni_pools.push_back(route_to(route.pool));
      }
    }
    set->routing.push_back(std::move(routing));
    set->listener_routes.push_back(std::move(described));
  }
  if (changes == nullptr || running == nullptr) return set;
  for (const std::shared_ptr<RunningPool>& old : running->pools) {
    bool kept = false;
    for (const std::shared_ptr<RunningPool>& pool : set->pools) {
      kept = kept || pool->settings.name == old->settings.name;
    }
    if (!kept) append(*changes, "pool " + old->settings.name + " removed");
  }
  for (std::size_t i = 0; i < set->routing.size() && i < running->routing.size(); ++i) {
    const std::string& was = running->listener_routes[i];
    const std::string& now = set->listener_routes[i];
    if (was != now) append(*changes, "listener " + std::to_string(i) + " routes " + now);
  }
  return set;
}

void ProxyServer::start(zell::Runtime& runtime) {
  tcp_.start(
      runtime,
      [this](zio::UniqueFd socket, app::ConnectionGate::Ticket ticket, std::size_t worker,
             std::size_t listener) {
        // The connection holds its routing (and so its pools): a reload may retire them while
        // the relay runs.
        return proxy_connection(
            std::move(socket), std::move(ticket), shared_, current_pools()->routing[listener],
            proxy_protocol_[listener],
            connection_logs_.empty() ? nullptr : connection_logs_[worker].get());
      },
      [this](zio::UniqueFd socket, std::size_t worker) {
        return refuse_connection(
            std::move(socket), connection_logs_.empty() ? nullptr : connection_logs_[worker].get());
      });
  for (std::size_t worker = 0; worker < connection_logs_.size(); ++worker) {
    log_flushers_.push_back(runtime.spawn_on_worker(
        worker,
        app::flush_log_buffers({&connection_logs_[worker]->lines()}, "proxy: connection log")));
  }
  if (connection_log_file_) {
    spdlog::info("proxy: connection log {}", connection_log_file_->path());
  }
  const std::lock_guard lock(control_);
  runtime_ = &runtime;
  // (Held in a local: a range-for over a temporary's member would outlive the temporary.)
  const std::shared_ptr<const PoolSet> pools = current_pools();
  for (const std::shared_ptr<RunningPool>& pool : pools->pools) start_checkers(pool);
}

std::string ProxyServer::reopen_connection_log() {
  if (!connection_log_file_) return "";
  const std::string error = connection_log_file_->reopen();
  return error.empty() ? "" : "the connection log " + connection_log_file_->path() + ": " + error;
}

std::shared_ptr<const ProxyServer::PoolSet> ProxyServer::current_pools() const {
  const std::lock_guard lock(pools_mutex_);
  return pools_;
}

void ProxyServer::start_checkers(const std::shared_ptr<RunningPool>& pool) {
  if (!pool->settings.health_check.enabled || pool->backends.size() == 0) return;
  Checkers& checkers = checkers_.emplace_back(Checkers{pool, {}});
  for (std::size_t i = 0; i < pool->backends.size(); ++i) {
    // Spread over the workers, across pools and reloads.
    checkers.tasks.push_back(
        runtime_->spawn_on_worker(next_checker_worker_++ % workers_, check_health(pool, i)));
  }
}

void ProxyServer::stop_checkers(Checkers& checkers) {
  for (auto& task : checkers.tasks) task.cancel();
  for (auto& task : checkers.tasks) {
    try {
      task.get();
    } catch (const zell::TaskCancelled&) {
      // expected: checkers end only by cancellation
    }
  }
  checkers.tasks.clear();
}

std::string ProxyServer::reload_pools(const ProxySettings& fresh) {
  const std::lock_guard lock(control_);
  if (runtime_ == nullptr) return "";  // stopping: nothing new starts
  const std::shared_ptr<const PoolSet> running = current_pools();
  std::string changes;
  std::shared_ptr<const PoolSet> next = make_pool_set(fresh, running.get(), &changes);
  if (changes.empty()) return "";
  auto listed = [](const PoolSet& set, const RunningPool* pool) {
    for (const std::shared_ptr<RunningPool>& p : set.pools) {
      if (p.get() == pool) return true;
    }
    return false;
  };
  // The old pools' checks stop before the new ones start: a backend taken over must not be
  // checked twice as often for a while (its rise and fall would count double).
  for (auto it = checkers_.begin(); it != checkers_.end();) {
    if (listed(*next, it->pool.get())) {
      ++it;
      continue;
    }
    stop_checkers(*it);
    it = checkers_.erase(it);
  }
  for (const std::shared_ptr<RunningPool>& pool : next->pools) {
    if (listed(*running, pool.get())) continue;
    if (pool->backends.size() > 0) {
      spdlog::info("proxy: pool {}: {}", pool->settings.name,
                   describe(pool->settings, pool->backends));
    }
    start_checkers(pool);
  }
  {
    const std::lock_guard publish(pools_mutex_);  // new connections see the new pools whole
    pools_ = next;
  }
  // A replaced pool hands its line to the new one: the clients queued on it no longer hold the
  // new pool's clients behind them (see PoolQueue::new_pool()).
  for (const std::shared_ptr<RunningPool>& pool : next->pools) {
    if (!listed(*running, pool.get())) pool->queue->new_pool();
  }
  return changes;
}

zell::Task<void> ProxyServer::check_health(std::shared_ptr<RunningPool> pool_ref,
                                           std::size_t index) {
  RunningPool& pool = *pool_ref;  // held by this frame: the task may outlive the server's list
  Backend& backend = pool.backends.at(index);
  const HealthCheckSettings& health = pool.settings.health_check;
  const std::string& name = pool.settings.name;
  const std::chrono::milliseconds timeout(health.timeout_ms);
  const std::chrono::milliseconds interval(health.interval_ms);
  app::LogThrottle local_failures(std::chrono::seconds(60));
  for (;;) {
    std::error_code ec;
    zio::UniqueFd socket = zio::open_socket(backend.address.family(), SOCK_STREAM, ec);
    if (ec) {
      // Our own shortage (EMFILE with the descriptor table full, ENOBUFS, ...) says nothing
      // about the backend: no verdict, or a proxy out of descriptors for a moment would mark
      // every backend down and turn clients away after it recovered, until `rise` checks passed.
      if (const auto skipped = local_failures.admit()) {
        spdlog::warn(
            "proxy: health check of backend {} of pool {} skipped: cannot open a socket: "
            "{}{}",
            backend.name, name, ec.message(), app::LogThrottle::left_out(*skipped));
      }
      co_await zell::sleep_for(interval);
      continue;
    }
    const zio::Result result = co_await zell::connect(socket.get(), backend.address, timeout);
    const app::ProxyProtocol send_proxy = backend.send_proxy.load(std::memory_order_relaxed);
    if (result.ok() && send_proxy != app::ProxyProtocol::kOff) {
      // A backend that expects a PROXY header gets one on checks too (HAProxy's
      // check-send-proxy): LOCAL, the proxy's own connection. Without it the backend would
      // count every check as a broken client. A new socket's buffer takes it whole.
      char header[app::kMaxProxyHeader];
      const std::size_t size = app::write_proxy_local_header(send_proxy, header);
      (void)::send(socket.get(), header, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    co_await zell::close(socket.release());
    if (!result.ok() && local_shortage(result.raw())) {
      if (const auto skipped = local_failures.admit()) {
        spdlog::warn("proxy: health check of backend {} of pool {} skipped: {}{}", backend.name,
                     name, result.error().message(), app::LogThrottle::left_out(*skipped));
      }
      co_await zell::sleep_for(interval);
      continue;
    }
    if (pool.backends.check_result(backend, result.ok())) {
      if (result.ok()) {
        spdlog::info("proxy: backend {} of pool {} is up ({} backend(s) up)", backend.name, name,
                     pool.backends.up_count());
      } else {
        spdlog::warn("proxy: backend {} of pool {} is down: health check: {} ({} backend(s) up)",
                     backend.name, name, result.error().message(), pool.backends.up_count());
      }
    }
    co_await zell::sleep_for(interval);
  }
}

void ProxyServer::stop_accepting() {
  {
    const std::lock_guard lock(control_);
    runtime_ = nullptr;
    for (Checkers& checkers : checkers_) stop_checkers(checkers);
    checkers_.clear();
  }
  tcp_.stop_accepting();
}

void ProxyServer::set_limits(const ProxyLimits& limits) noexcept {
  tcp_.set_max_connections(limits.max_connections);
  shared_.set_limits(limits);
}

nlohmann::json ProxyServer::render_pools_json() const {
  nlohmann::json out = nlohmann::json::array();
  const std::shared_ptr<const PoolSet> pools = current_pools();
  for (const std::shared_ptr<RunningPool>& pool : pools->pools) {
    if (pool->backends.size() == 0) continue;  // the default pool, when no listener uses it
    out.push_back({{"name", pool->settings.name},
                   {"queue_timeout_ms", pool->settings.queue_timeout_ms},
                   {"max_queue", pool->settings.max_queue},
                   {"queued", pool->queue->waiting()}});
  }
  return out;
}

nlohmann::json ProxyServer::render_backends_json() const {
  nlohmann::json out = nlohmann::json::array();
  const std::shared_ptr<const PoolSet> pools = current_pools();
  for (const std::shared_ptr<RunningPool>& pool : pools->pools) {
    for (std::size_t i = 0; i < pool->backends.size(); ++i) {
      const Backend& b = pool->backends.at(i);
      out.push_back({{"pool", pool->settings.name},
                     {"address", b.name},
                     {"weight", pool->backends.weight(i)},
                     {"backup", pool->backends.backup(i)},
                     {"max_connections", pool->backends.max_connections(i)},
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
      // (Not "..._connect_failures_total": that family is the per-worker counter's.)
      {"zap_proxy_backend_failed_connects_total", "counter", "Connects to the backend that failed"},
      {"zap_proxy_backend_bytes_to_backend_total", "counter", "Bytes sent to the backend"},
      {"zap_proxy_backend_bytes_from_backend_total", "counter", "Bytes received from the backend"},
  };
  std::string out;
  const std::shared_ptr<const PoolSet> pools = current_pools();
  for (std::size_t s = 0; s < std::size(kSeries); ++s) {
    out += std::string("# HELP ") + kSeries[s].name + " " + kSeries[s].help + "\n# TYPE " +
           kSeries[s].name + " " + kSeries[s].type + "\n";
    for (const std::shared_ptr<RunningPool>& pool : pools->pools) {
      for (std::size_t i = 0; i < pool->backends.size(); ++i) {
        const Backend& b = pool->backends.at(i);
        const std::uint64_t values[] = {
            b.up.load(std::memory_order_relaxed) ? 1u : 0u,
            static_cast<std::uint64_t>(b.active.load(std::memory_order_relaxed)),
            b.connections.load(std::memory_order_relaxed),
            b.connect_failures.load(std::memory_order_relaxed),
            b.bytes_to_backend.load(std::memory_order_relaxed),
            b.bytes_from_backend.load(std::memory_order_relaxed)};
        out += std::string(kSeries[s].name) + "{pool=\"" + pool->settings.name + "\",backend=\"" +
               b.name + "\"} " + std::to_string(values[s]) + "\n";
      }
    }
  }
  out +=
      "# HELP zap_proxy_pool_queued Clients waiting for room in the pool\n"
      "# TYPE zap_proxy_pool_queued gauge\n";
  for (const std::shared_ptr<RunningPool>& pool : pools->pools) {
    if (pool->backends.size() == 0) continue;
    out += "zap_proxy_pool_queued{pool=\"" + pool->settings.name + "\"} " +
           std::to_string(pool->queue->waiting()) + "\n";
  }
  return out;
}

}  // namespace zap::proxy
