// ProxyServer: zap-proxy's listeners, backend pool, health checks and connections on a zell
// Runtime.
//
//   ProxyServer server(settings, runtime.worker_count(), counters);   // binds now (may throw)
//   write_port_file(path, server.bound_addresses());
//   server.start(runtime);                   // acceptors, and a health checker per backend
//   ... SIGTERM ...
//   server.stop_accepting();                 // acceptors and checkers stopped, listeners closed
//   bool clean = server.drain(grace);        // relayed connections finish, up to `grace`
//
// Pools: each listener relays to one pool (ProxySettings::pools); each pool balances and checks
// its own backends. /stats lists every backend of every pool, with its pool's name.
// Health checks: a task per backend (spread over the workers) connects every interval_ms
// within timeout_ms and closes again; the pool turns the verdicts into up/down (rise/fall) and
// each change is logged once. /stats and /metrics show every backend (render_backends_json,
// render_backends_prometheus).
// Thread-safety: construct, start, stop_accepting, drain from the main thread; hurry(),
// set_limits() and the renderers from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zap/zell/join_handle.hpp>
#include <zap/zell/runtime.hpp>

#include "backend_pool.hpp"
#include "counters.hpp"
#include "proxy_connection.hpp"
#include "proxy_settings.hpp"
#include "stream_server.hpp"

namespace zap::proxy {

class ProxyServer {
 public:
  ProxyServer(const ProxySettings& settings, std::size_t workers, app::Counters& counters);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  std::vector<std::string> bound_addresses() const { return tcp_.bound_addresses(); }
  void start(zell::Runtime& runtime);
  void stop_accepting();
  bool drain(std::chrono::milliseconds grace) { return tcp_.drain(grace); }
  void hurry() noexcept { tcp_.hurry(); }
  void set_limits(const ProxyLimits& limits) noexcept;
  std::int64_t open_connections() const noexcept { return tcp_.open_connections(); }

  nlohmann::json render_backends_json() const;
  std::string render_backends_prometheus() const;

 private:
  // A pool as it runs: its backends' state and its health checks' settings.
  struct Pool {
    std::string name;
    HealthCheckSettings health;
    std::unique_ptr<BackendPool> backends;
  };

  zell::Task<void> check_health(Pool& pool, Backend& backend);

  std::size_t workers_;
  std::vector<Pool> pools_;  // as ProxySettings::pools
  ProxyShared shared_;
  app::StreamServer tcp_;
  std::vector<zell::JoinHandle<void>> checkers_;
  std::vector<bool> proxy_protocol_;         // by listener: connections start with a PROXY header
  std::vector<BackendPool*> listener_pool_;  // by listener: where its clients go
};

}  // namespace zap::proxy
