// The command line every zap daemon shares (CLI11), and the guard that turns start-up errors into
// one message and an exit code.
//
//   int main(int argc, char** argv) {
//     return guarded_main("zap-echo", [&] {
//       CLI::App app{"zap-echo: TCP/UDP echo server"};
//       CommonFlags flags;
//       add_common_flags(app, flags, "zap-echo");
//       CLI11_PARSE(app, argc, argv);
//       ...
//     });
//   }
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "daemon_settings.hpp"

namespace zap::app {

struct CommonFlags {
  std::string config;     // --config FILE; empty: the daemon's embedded default
  bool check = false;     // --check: validate the config and exit 0 / 1, like nginx -t
  std::string log_level;  // --log-level overrides log.level
  std::optional<std::int64_t> workers;  // --workers overrides runtime.workers
  std::string io_backend;               // --io-backend overrides runtime.io_backend
  std::string port_file;  // --port-file: write the bound listener addresses here, one per line
  std::string cpus;       // --cpus overrides runtime.cpus
  std::string log_file;   // --log-file overrides log.file
  std::optional<std::int64_t> shutdown_grace_ms;  // --shutdown-grace-ms
  std::string admin;  // --admin ADDR overrides admin.listen ("off" disables it)
};

void add_common_flags(CLI::App& app, CommonFlags& flags, const std::string& program);

// Applies the command-line overrides on top of the config file's values; throws ConfigError for
// a bad value (named by its flag).
void apply_overrides(const CommonFlags& flags, DaemonSettings& settings);

// --check, once the settings have loaded: what only start-up would otherwise find (the log file
// cannot be opened) is checked too, then "<program>: config <file> is valid" is printed. Returns
// the exit status (0); throws ConfigError as loading does.
int report_valid_config(const std::string& program, const CommonFlags& flags,
                        const DaemonSettings& settings);

// Runs `body`, turning ConfigError and other exceptions into "program: message" on stderr and
// exit code 1. `body` returns the exit code.
int guarded_main(const std::string& program, const std::function<int()>& body);

}  // namespace zap::app
