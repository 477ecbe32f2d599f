#include "reload.hpp"

#include <spdlog/spdlog.h>

#include "logging.hpp"
#include "reload_report.hpp"

namespace zap::proxy {

void Reloader::reload() {
  // First, whatever the config says: logrotate moved the connection log and sent SIGHUP.
  if (const std::string error = server_.reopen_connection_log(); !error.empty()) {
    app::log_reload_error("cannot reopen " + error + "; still writing to what was open");
  }
  if (flags_.common.config.empty()) return app::log_nothing_to_reload();
  ProxySettings fresh;
  try {
    fresh = load_proxy_settings(flags_);
    app::check_as_startup_would(fresh.daemon, "proxy");
  } catch (const std::exception& e) {
    app::log_reload_error(std::string(e.what()) + "; keeping the running config");
    return;
  }
  const ProxyLimits& was = running_.limits;
  const ProxyLimits& now = fresh.limits;
  app::ReloadReport report;
  report.compare_daemon(running_.daemon, fresh.daemon);
  report.applied("max_connections", was.max_connections, now.max_connections);
  report.applied("connect_timeout_ms", was.connect_timeout_ms, now.connect_timeout_ms);
  report.applied("idle_timeout_ms", was.idle_timeout_ms, now.idle_timeout_ms);
  report.applied("retries", was.retries, now.retries);
  const bool same_listeners =
      fresh.listeners == running_.listeners && fresh.proxy_protocol == running_.proxy_protocol;
  report.restart_if(!same_listeners, "listeners");
  const bool pools_changed = fresh.pools != running_.pools ||
                             fresh.listener_pool != running_.listener_pool ||
                             fresh.sni_routes != running_.sni_routes;
  // The pools are applied with the listeners they were written for, or not at all.
  report.restart_if(pools_changed && !same_listeners, "backends/pools (with the listeners)");
  report.restart_if(fresh.buffer_size != running_.buffer_size, "buffer_size");
  report.restart_if(fresh.max_buffer_size != running_.max_buffer_size, "max_buffer_size");
  report.restart_if(fresh.accept_mode != running_.accept_mode, "accept");
  report.restart_if(fresh.connection_log != running_.connection_log, "connection_log");

  const bool more_connections = now.max_connections > was.max_connections;
  app::set_log_level(fresh.daemon.log.level);
  server_.set_limits(fresh.limits);
  running_.daemon.log.level = fresh.daemon.log.level;
  running_.limits = fresh.limits;
  if (pools_changed && same_listeners) {
    const std::string changes = server_.reload_pools(fresh);
    if (!changes.empty()) report.applied_text(changes);
    running_.pools = fresh.pools;
    running_.listener_pool = fresh.listener_pool;
    running_.sni_routes = fresh.sni_routes;
  }
  report.log();
  if (more_connections) app::check_descriptor_limit(descriptor_need(running_));
}

}  // namespace zap::proxy
