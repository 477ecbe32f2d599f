#include "reload.hpp"

#include <spdlog/spdlog.h>

#include "logging.hpp"
#include "reload_report.hpp"

namespace zap::proxy {

namespace {

bool same_backends(const ProxySettings& a, const ProxySettings& b) {
  if (a.backends.size() != b.backends.size()) return false;
  for (std::size_t i = 0; i < a.backends.size(); ++i) {
    if (!(a.backends[i].address == b.backends[i].address) ||
        a.backends[i].weight != b.backends[i].weight ||
        a.backends[i].send_proxy != b.backends[i].send_proxy) {
      return false;
    }
  }
  return true;
}

bool same_health_check(const HealthCheckSettings& a, const HealthCheckSettings& b) {
  return a.enabled == b.enabled && a.interval_ms == b.interval_ms && a.timeout_ms == b.timeout_ms &&
         a.rise == b.rise && a.fall == b.fall;
}

}  // namespace

void Reloader::reload() {
  if (flags_.common.config.empty()) return app::log_nothing_to_reload();
  ProxySettings fresh;
  try {
    fresh = load_proxy_settings(flags_);
  } catch (const std::exception& e) {
    spdlog::error("reload: {}; keeping the running config", e.what());
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
  report.restart_if(
      fresh.listeners != running_.listeners || fresh.proxy_protocol != running_.proxy_protocol,
      "listeners");
  report.restart_if(!same_backends(fresh, running_), "backends");
  report.restart_if(fresh.balance != running_.balance, "balance");
  report.restart_if(!same_health_check(fresh.health_check, running_.health_check), "health_check");
  report.restart_if(fresh.buffer_size != running_.buffer_size, "buffer_size");
  report.restart_if(fresh.accept_mode != running_.accept_mode, "accept");

  app::set_log_level(fresh.daemon.log.level);
  server_.set_limits(fresh.limits);
  running_.daemon.log.level = fresh.daemon.log.level;
  running_.limits = fresh.limits;
  report.log();
}

}  // namespace zap::proxy
