#include "reload_report.hpp"

#include "logging.hpp"
#include "runtime_config.hpp"

namespace zap::app {

void ReloadReport::compare_daemon(const DaemonSettings& running, const DaemonSettings& fresh) {
  applied("log.level", running.log.level, fresh.log.level);
  restart_if(fresh.runtime.workers != running.runtime.workers ||
                 fresh.runtime.cpus != running.runtime.cpus ||
                 fresh.runtime.io_backend != running.runtime.io_backend ||
                 fresh.runtime.topology != running.runtime.topology,
             "runtime");
  restart_if(fresh.log.file != running.log.file, "log.file");
  restart_if(fresh.log.max_size_mb != running.log.max_size_mb, "log.max_size_mb");
  restart_if(fresh.log.max_files != running.log.max_files, "log.max_files");
  restart_if(fresh.admin_listen != running.admin_listen, "admin");
  restart_if(fresh.shutdown_grace_ms != running.shutdown_grace_ms, "shutdown_grace_ms");
}

std::string ReloadReport::text() const {
  return "reload: applied " + (applied_.empty() ? std::string("no changes") : applied_) +
         (restart_.empty() ? std::string() : "; changed but needs a restart: " + restart_);
}

void ReloadReport::log() const { log_notice(text()); }

void check_as_startup_would(const DaemonSettings& fresh, const std::string& name) {
  (void)to_runtime_config(fresh.runtime, name);
  check_log_settings(fresh.log, LogFileCheck::kWithoutCreating);
}

void log_nothing_to_reload() {
  log_notice("reload: running the built-in config (no --config): nothing to reload");
}

}  // namespace zap::app
