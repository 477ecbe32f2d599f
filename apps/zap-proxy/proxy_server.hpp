// ProxyServer: zap-proxy's listeners, backend pool, health checks and connections on a zell
// Runtime.
//
//   ProxyServer server(settings, runtime.worker_count(), counters);   // binds now (may throw)
//   write_port_file(path, server.bound_addresses());
//   server.start(runtime);                   // acceptors, and a health checker per backend
//   std::string what = server.reload_pools(fresh);   // SIGHUP: new pools, without a restart
//   ... SIGTERM ...
//   server.stop_accepting();                 // acceptors and checkers stopped, listeners closed
//   bool clean = server.drain(grace);        // relayed connections finish, up to `grace`
//
// Pools: each listener relays to one pool (ProxySettings::pools); each pool balances and checks
// its own backends. /stats lists every backend of every pool, with its pool's name.
// Reload: reload_pools() swaps in the pools of a new config (same listeners) while connections
// run. A pool whose settings did not change goes on as it was, health checks and all. A changed
// pool is built anew, taking over its unchanged backends (BackendPool: health, counters and
// active connections carry on) and starting health checks for it; its old checks stop. New
// clients go to the new pools at once; a connection keeps the pool it started with until it
// ends (its pool is shared with it), so a backend that left the config is not cut off.
// Health checks: a task per backend (spread over the workers) connects every interval_ms
// within timeout_ms and closes again; the pool turns the verdicts into up/down (rise/fall) and
// each change is logged once. /stats and /metrics show every backend (render_backends_json,
// render_backends_prometheus).
// Thread-safety: construct, start, stop_accepting, drain from the main thread; reload_pools()
// from one other thread (the signal thread); hurry(), set_limits() and the renderers from any
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zap/zell/join_handle.hpp>
#include <zap/zell/runtime.hpp>

#include "backend_pool.hpp"
#include "connection_log.hpp"
#include "counters.hpp"
#include "log_file.hpp"
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
  // Applies `fresh`'s pools and listener_pool (its listeners must be the running ones); returns
  // what changed, for the reload report ("" if nothing did).
  std::string reload_pools(const ProxySettings& fresh);
  std::int64_t open_connections() const noexcept { return tcp_.open_connections(); }
  // Reopens the connection log (after logrotate moved it); "" if done or there is none, else
  // why not.
  std::string reopen_connection_log();

  nlohmann::json render_backends_json() const;
  std::string render_backends_prometheus() const;
  // Each pool's name and the clients waiting in its queue now.
  nlohmann::json render_pools_json() const;

 private:
  // A pool as it runs: its settings, its backends' state. Immutable but for the backends'
  // atomics; shared by the pool set that lists it and by each connection relaying through it.
  struct RunningPool {
    RunningPool(const PoolSettings& settings, const RunningPool* previous);
    PoolSettings settings;
    BackendPool backends;
    std::shared_ptr<PoolQueue> queue;  // the previous version's, if any
  };
  // What new connections see: every pool, and each listener's routing to them. Replaced whole
  // on a reload, never changed in place.
  struct PoolSet {
    std::vector<std::shared_ptr<RunningPool>> pools;      // as ProxySettings::pools
    std::vector<std::shared_ptr<const Routing>> routing;  // by listener
    // By listener, its routing in words ("default | a.test *.a.test -> a"), to report changes.
    std::vector<std::string> listener_routes;
  };
  // A pool's health checkers, and the pool they check (kept alive until they have stopped).
  struct Checkers {
    std::shared_ptr<RunningPool> pool;
    std::vector<zell::JoinHandle<void>> tasks;
  };

  static std::shared_ptr<const PoolSet> make_pool_set(const ProxySettings& settings,
                                                      const PoolSet* running, std::string* changes);
  void start_checkers(const std::shared_ptr<RunningPool>& pool);
  static void stop_checkers(Checkers& checkers);
  // Checks pool->backends.at(index) every interval until cancelled.
  static zell::Task<void> check_health(std::shared_ptr<RunningPool> pool, std::size_t index);

  std::size_t workers_;
  ProxyShared shared_;
  app::StreamServer tcp_;
  std::vector<bool> proxy_protocol_;  // by listener: connections start with a PROXY header
  // The connection log (settings.connection_log), a buffer per worker, each worker's flusher.
  std::unique_ptr<app::LogFile> connection_log_file_;
  std::vector<std::unique_ptr<ConnectionLog>> connection_logs_;
  std::vector<zell::JoinHandle<void>> log_flushers_;
  std::shared_ptr<const PoolSet> current_pools() const;

  // The running pool set. A plain mutex, not std::atomic<std::shared_ptr>: libstdc++'s is a lock
  // too (a spin bit in the pointer) that ThreadSanitizer cannot see. Taken once per accepted
  // connection, for a pointer copy: uncontended in practice.
  mutable std::mutex pools_mutex_;
  std::shared_ptr<const PoolSet> pools_;  // guarded by pools_mutex_
  // Checkers and their placement: changed by start, reload_pools and stop_accepting, under
  // control_ (the main thread and the signal thread).
  std::mutex control_;
  zell::Runtime* runtime_ = nullptr;  // set by start(); null again once stopped
  std::vector<Checkers> checkers_;
  std::size_t next_checker_worker_ = 0;
};

}  // namespace zap::proxy
