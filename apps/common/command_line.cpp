#include "command_line.hpp"

#include <cstdio>
#include <exception>
#include <functional>
#include <utility>

#include "address_setting.hpp"
#include "config_reader.hpp"
#include "logging.hpp"
#include "runtime_config.hpp"

namespace zap::app {

namespace {

// An empty value (e.g. an unset variable in a service file) is refused: it would otherwise be
// taken as no flag at all and silently leave the config's value in force.
std::function<std::string(const std::string&)> refuse_empty(std::string instead) {
  return [instead = std::move(instead)](const std::string& value) {
    std::string why;
    if (value.empty()) {
      why = "an empty value (";
      why += instead;
      why += ")";
    }
    return why;
  };
}

}  // namespace

void add_common_flags(CLI::App& app, CommonFlags& flags, const std::string& program) {
  app.set_version_flag("--version", program + " " + ZAP_VERSION_STRING);
  // (No CLI::ExistingFile check: a missing file is reported like any config error, on one line.
  // An empty path is refused here: it would mean the built-in config, as with no --config --
  // e.g. from an unset variable in a service file.)
  app.add_option("-c,--config", flags.config, "JSON config file (default: built-in config)")
      ->check([](const std::string& path) {
        return path.empty() ? std::string("an empty path (leave --config out for the built-in)")
                            : std::string();
      });
  app.add_flag("-t,--check", flags.check, "Validate the config, print the result and exit");
  app.add_option("--log-level", flags.log_level, "Override log.level")
      ->check(CLI::IsMember(log_level_names()));
  app.add_option("-w,--workers", flags.workers, "Override runtime.workers (0: one per CPU)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--io-backend", flags.io_backend, "Override runtime.io_backend")
      ->check(CLI::IsMember({"auto", "io_uring", "epoll"}));
  app.add_option("--port-file", flags.port_file,
                 "Write the bound addresses (listeners in config order, then admin), one per "
                 "line, to this file; written atomically once listening (use with port 0)")
      ->check(refuse_empty("leave --port-file out for none"));
  app.add_option("--cpus", flags.cpus, "Override runtime.cpus (CPU list, e.g. 0-3,8)")
      ->check(refuse_empty("leave --cpus out to keep runtime.cpus"));
  app.add_option("--log-file", flags.log_file, "Override log.file (size-rotated log file)")
      ->check(refuse_empty("leave --log-file out to keep log.file"));
  app.add_option("--shutdown-grace-ms", flags.shutdown_grace_ms,
                 "Override shutdown_grace_ms (drain time after SIGTERM/SIGINT)")
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--admin", flags.admin,
                 "Override admin.listen (ip:port of the /stats and /metrics endpoint; off: none)")
      ->check(refuse_empty("off: no admin endpoint"));
}

void apply_overrides(const CommonFlags& flags, DaemonSettings& settings) {
  if (!flags.log_level.empty()) settings.log.level = flags.log_level;
  if (flags.workers) settings.runtime.workers = *flags.workers;
  if (!flags.io_backend.empty()) settings.runtime.io_backend = flags.io_backend;
  if (!flags.cpus.empty()) {
    settings.runtime.cpus = flags.cpus;
    (void)to_runtime_config(settings.runtime, "", "--cpus");  // its errors name the flag
  }
  if (!flags.log_file.empty()) settings.log.file = flags.log_file;
  if (flags.shutdown_grace_ms) settings.shutdown_grace_ms = *flags.shutdown_grace_ms;
  if (flags.admin == "off") {
    settings.admin_listen.reset();
  } else if (!flags.admin.empty()) {
    (void)parse_address_setting(flags.admin, "--admin");
    settings.admin_listen = flags.admin;
  }
}

int report_valid_config(const std::string& program, const CommonFlags& flags,
                        const DaemonSettings& settings) {
  check_log_settings(settings.log);
  std::printf("%s: config %s is valid\n", program.c_str(),
              flags.config.empty() ? "<built-in>" : flags.config.c_str());
  return 0;
}

int guarded_main(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: config error: %s\n", program.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
  }
  return 1;
}

}  // namespace zap::app
