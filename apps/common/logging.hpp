// Logging for the daemons: spdlog to stderr, and optionally to a size-rotated file.
//
//   setup_logging("zap-echo", settings.log);   // once, at start-up; throws ConfigError
//   spdlog::info("listening on {}", address);
//   set_log_level("debug");                     // e.g. on SIGHUP; thread-safe
#pragma once

#include <string>

#include "daemon_settings.hpp"

namespace zap::app {

void setup_logging(const std::string& program, const LogSettings& settings);

// Returns false (and changes nothing) for an unknown level name.
bool set_log_level(const std::string& level);

}  // namespace zap::app
