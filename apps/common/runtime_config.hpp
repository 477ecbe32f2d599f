// Turns the "runtime" settings of a daemon config into zell's RuntimeConfig.
//
//   zell::Runtime runtime(to_runtime_config(settings.runtime, "zap-echo"));
//
// The CPU list and the simulated topology are parsed here, so that `--check` reports a bad one as
// a config error naming its key (runtime.cpus, runtime.topology) instead of a failed start.
#pragma once

#include <string>

#include <zap/zell/config.hpp>

#include "daemon_settings.hpp"

namespace zap::app {

// Throws ConfigError naming the key for an unparsable CPU list or topology, or a CPU set that
// does not fit the topology. `cpus_from`: what the CPU list's errors name (the flag, when
// --cpus gave it).
zell::RuntimeConfig to_runtime_config(const RuntimeSettings& settings, const std::string& name,
                                      const std::string& cpus_from = "runtime.cpus");

// "4 workers on CPUs 0-3 (1 node), io_uring" -- for the start-up log line.
std::string describe_runtime(const zell::RuntimeConfig& config, std::size_t workers);

// The IO backend the workers get, and why, as zio words it: "zio backend epoll (...)".
std::string describe_io_backend(zell::IoBackend backend);

}  // namespace zap::app
