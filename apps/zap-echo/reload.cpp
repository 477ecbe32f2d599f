#include "reload.hpp"

#include <spdlog/spdlog.h>

#include "logging.hpp"

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

// The reload report must be seen even when the new level hides "info".
void report(const std::string& text) {
  spdlog::log(std::max(spdlog::level::info, spdlog::get_level()), "{}", text);
}

}  // namespace

void Reloader::reload() {
  if (flags_.common.config.empty()) {
    report("reload: running the built-in config (no --config): nothing to reload");
    return;
  }
  EchoSettings fresh;
  try {
    fresh = load_echo_settings(flags_);
  } catch (const std::exception& e) {
    spdlog::error("reload: {}; keeping the running config", e.what());
    return;
  }
  std::string applied;
  auto note = [&](const std::string& what, const auto& from, const auto& to) {
    applied += (applied.empty() ? "" : ", ") + what + " " + fmt::format("{} -> {}", from, to);
  };
  if (fresh.daemon.log.level != running_.daemon.log.level) {
    note("log.level", running_.daemon.log.level, fresh.daemon.log.level);
  }
  if (fresh.limits.max_connections != running_.limits.max_connections) {
    note("max_connections", running_.limits.max_connections, fresh.limits.max_connections);
  }
  if (fresh.limits.idle_timeout_ms != running_.limits.idle_timeout_ms) {
    note("idle_timeout_ms", running_.limits.idle_timeout_ms, fresh.limits.idle_timeout_ms);
  }
  std::string restart;
  auto needs_restart = [&](bool changed, const char* key) {
    if (changed) restart += (restart.empty() ? "" : ", ") + std::string(key);
  };
  needs_restart(!same_listeners(fresh, running_), "listeners");
  needs_restart(fresh.accept_mode != running_.accept_mode, "accept");
  needs_restart(fresh.buffer_size != running_.buffer_size, "buffer_size");
  needs_restart(fresh.daemon.runtime.workers != running_.daemon.runtime.workers ||
                    fresh.daemon.runtime.cpus != running_.daemon.runtime.cpus ||
                    fresh.daemon.runtime.io_backend != running_.daemon.runtime.io_backend ||
                    fresh.daemon.runtime.topology != running_.daemon.runtime.topology,
                "runtime");
  needs_restart(fresh.daemon.log.file != running_.daemon.log.file, "log.file");
  needs_restart(fresh.daemon.admin_listen != running_.daemon.admin_listen, "admin");
  needs_restart(fresh.daemon.shutdown_grace_ms != running_.daemon.shutdown_grace_ms,
                "shutdown_grace_ms");

  app::set_log_level(fresh.daemon.log.level);
  server_.set_limits(fresh.limits);
  running_.daemon.log.level = fresh.daemon.log.level;
  running_.limits = fresh.limits;
  report("reload: applied " + (applied.empty() ? std::string("no changes") : applied) +
         (restart.empty() ? std::string() : "; changed but needs a restart: " + restart));
}

}  // namespace zap::echo
