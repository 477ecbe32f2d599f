#include "reload.hpp"

#include <spdlog/spdlog.h>

#include "logging.hpp"
#include "reload_report.hpp"

namespace zap::echo {

namespace {

bool same_listeners(const EchoSettings& a, const EchoSettings& b) {
  if (a.listeners.size() != b.listeners.size()) return false;
  for (std::size_t i = 0; i < a.listeners.size(); ++i) {
    if (!(a.listeners[i].address == b.listeners[i].address) ||
        a.listeners[i].udp != b.listeners[i].udp) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Reloader::reload() {
  if (flags_.common.config.empty()) return app::log_nothing_to_reload();
  EchoSettings fresh;
  try {
    fresh = load_echo_settings(flags_);
    app::check_as_startup_would(fresh.daemon, "echo");
  } catch (const std::exception& e) {
    app::log_reload_error(std::string(e.what()) + "; keeping the running config");
    return;
  }
  app::ReloadReport report;
  report.compare_daemon(running_.daemon, fresh.daemon);
  report.applied("max_connections", running_.limits.max_connections, fresh.limits.max_connections);
  report.applied("idle_timeout_ms", running_.limits.idle_timeout_ms, fresh.limits.idle_timeout_ms);
  report.restart_if(!same_listeners(fresh, running_), "listeners");
  report.restart_if(fresh.accept_mode != running_.accept_mode, "accept");
  report.restart_if(fresh.buffer_size != running_.buffer_size, "buffer_size");
  report.restart_if(fresh.max_buffer_size != running_.max_buffer_size, "max_buffer_size");

  const bool more_connections = fresh.limits.max_connections > running_.limits.max_connections;
  app::set_log_level(fresh.daemon.log.level);
  server_.set_limits(fresh.limits);
  running_.daemon.log.level = fresh.daemon.log.level;
  running_.limits = fresh.limits;
  report.log();
  if (more_connections) app::check_descriptor_limit(descriptor_need(running_));
}

}  // namespace zap::echo
