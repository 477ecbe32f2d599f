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

// Throws ConfigError ("log.file: cannot open ...") unless log.file (if set) can be opened for
// appending -- kCreate creates it, as nginx -t does; never a missing directory -- and, when it is a
// regular file, its folder lets rotation rename files in it (else the first rotation would
// truncate the log). For --check and setup_logging(); a reload checks without creating (a
// changed log.file only applies at the next start).
enum class LogFileCheck { kCreate, kWithoutCreating };
void check_log_settings(const LogSettings& settings, LogFileCheck how = LogFileCheck::kCreate);

// Opens log.file again, for logrotate's move-then-SIGHUP: later lines go to a file at that path,
// not to the moved or deleted one. Returns "" (also without a log file), or why it could not --
// the old file stays in use then.
std::string reopen_log_file();

// Returns false (and changes nothing) for an unknown level name.
bool set_log_level(const std::string& level);

// Logs `text` at info even when the level is above info (but not "off"): what a SIGHUP applied
// must be seen, and logging it at the level set (warn, error) would call it a problem.
void log_notice(const std::string& text);

// "reload: <text>" as an error even when the level hides errors (critical; not off), flushed at
// once: a SIGHUP that failed must say why.
void log_reload_error(const std::string& text);

}  // namespace zap::app
