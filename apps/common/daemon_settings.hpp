// DaemonSettings: the config keys every zap daemon shares, read strictly from JSON.
//
//   {
//     "runtime": {"workers": 0, "cpus": "0-3", "io_backend": "auto", "topology": ""},
//     "log": {"level": "info", "file": "", "max_size_mb": 64, "max_files": 3},
//     "shutdown_grace_ms": 5000,
//     "admin": {"listen": "127.0.0.1:9901"}
//   }
//
// Every key is optional; the values above are the defaults except admin (off unless present) and
// cpus (all CPUs). workers 0 means one per CPU of the CPU set. topology is a simulated topology
// description for testing NUMA placement (see zap/zuma/topology.hpp), in either of its formats:
// "node 0: 0-1; node 1: 2-3 on 0-1" or "nodes=2 cores_per_node=2 cpus=0,1,0,1"; empty means the
// real one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config_reader.hpp"

namespace zap::app {

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  std::string file;            // empty: console (stderr) only
  std::int64_t max_size_mb = 64;
  std::int64_t max_files = 3;
};

struct RuntimeSettings {
  std::int64_t workers = 0;  // 0: one per CPU
  std::string cpus;          // Linux CPU list; empty: every online CPU
  std::string io_backend = "auto";
  std::string topology;  // simulated topology description; empty: detected
};

struct DaemonSettings {
  RuntimeSettings runtime;
  LogSettings log;
  std::int64_t shutdown_grace_ms = 5000;
  std::optional<std::string> admin_listen;
};

inline const std::vector<std::string>& log_level_names() {
  static const std::vector<std::string> names = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  return names;
}

// Reads "runtime", "log", "shutdown_grace_ms" and "admin" from the root object, marking them used.
// A relative log.file is taken from `config_dir` (the config file's folder), as every other path
// of a config is.
DaemonSettings read_daemon_settings(JsonReader& root, const std::string& config_dir);

}  // namespace zap::app
