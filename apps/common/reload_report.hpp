// ReloadReport: the one log line a daemon writes after SIGHUP -- what it applied, and which
// changed keys need a restart -- with the comparisons every daemon shares.
//
//   ReloadReport report;
//   report.applied("max_connections", running.max_connections, fresh.max_connections);
//   report.restart_if(fresh.listeners != running.listeners, "listeners");
//   report.compare_daemon(running.daemon, fresh.daemon);   // log.level applied; runtime, ...
//   report.log();   // "reload: applied max_connections 10 -> 20; changed but needs a restart: ..."
//
// The line is logged at info even when the level set hides info (log_notice), unless it is off.
#pragma once

#include <string>

#include <spdlog/fmt/fmt.h>

#include "daemon_settings.hpp"

namespace zap::app {

class ReloadReport {
 public:
  // Notes `key` as applied if it changed.
  template <typename T>
  void applied(const std::string& key, const T& from, const T& to) {
    if (from == to) return;
    applied_ += (applied_.empty() ? "" : ", ") + key + " " + fmt::format("{} -> {}", from, to);
  }
  // Notes a change described in words ("pool web added").
  void applied_text(const std::string& what) { applied_ += (applied_.empty() ? "" : ", ") + what; }
  void restart_if(bool changed, const std::string& key) {
    if (changed) restart_ += (restart_.empty() ? "" : ", ") + key;
  }
  // log.level is applied; runtime, log.file (and its rotation sizes), admin and
  // shutdown_grace_ms need a restart.
  void compare_daemon(const DaemonSettings& running, const DaemonSettings& fresh);

  std::string text() const;
  void log() const;

 private:
  std::string applied_;
  std::string restart_;
};

// Reports that a daemon running its built-in config has nothing to re-read.
void log_nothing_to_reload();

// Throws ConfigError for what start-up (and --check) would refuse beyond loading the config --
// runtime settings zell cannot lay out, a log file that cannot be opened -- so that a reload does
// not accept a config the next restart fails on. `name` as for to_runtime_config.
void check_as_startup_would(const DaemonSettings& fresh, const std::string& name);

}  // namespace zap::app
