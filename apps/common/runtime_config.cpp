#include "runtime_config.hpp"

#include <zap/zio/loop.hpp>

#include "config_reader.hpp"

namespace zap::app {

zell::RuntimeConfig to_runtime_config(const RuntimeSettings& settings, const std::string& name,
                                      const std::string& cpus_from) {
  zell::RuntimeConfig config;
  config.workers = static_cast<std::size_t>(settings.workers);
  config.name = name;
  if (!settings.topology.empty()) {
    auto topology = zuma::Topology::parse(settings.topology);
    if (!topology) {
      throw ConfigError("runtime.topology: " + topology.error().to_string() + " in \"" +
                        settings.topology + "\"");
    }
    config.topology = std::move(*topology);
  }
  const zuma::Topology& topology = config.topology ? *config.topology : zuma::Topology::system();
  if (!settings.cpus.empty()) {
    auto cpus = zuma::CpuSet::parse(settings.cpus);
    if (!cpus) {
      throw ConfigError(cpus_from + ": expected a CPU list like \"0-3,8\", " +
                        cpus.error().to_string() + " in \"" + settings.cpus + "\"");
    }
    if ((*cpus & topology.cpu_set()).empty()) {
      throw ConfigError(cpus_from + ": \"" + settings.cpus + "\" names no CPU of this machine (" +
                        topology.cpu_set().to_string() + ")");
    }
    config.cpus = *cpus;
  }
  if (settings.io_backend == "io_uring") {
    config.io_backend = zell::IoBackend::kIoUring;
  } else if (settings.io_backend == "epoll") {
    config.io_backend = zell::IoBackend::kEpoll;
  } else {
    config.io_backend = zell::IoBackend::kAutomatic;
  }
  return config;
}

std::string describe_runtime(const zell::RuntimeConfig& config, std::size_t workers) {
  const zuma::Topology& topology = config.topology ? *config.topology : zuma::Topology::system();
  const zuma::CpuSet cpus = config.cpus ? (*config.cpus & topology.cpu_set()) : topology.cpu_set();
  return std::to_string(workers) + " worker(s) on CPUs " + cpus.to_string() + " (" +
         std::to_string(topology.node_count()) + " NUMA node(s)), " +
         describe_io_backend(config.io_backend);
}

std::string describe_io_backend(zell::IoBackend backend) {
  // zio decides per loop (options, then ZAP_IO_BACKEND, then whether io_uring_setup works); a
  // probe loop built with the workers' options makes the same choice and says why.
  zio::LoopOptions options;
  options.backend = backend == zell::IoBackend::kIoUring ? zio::BackendKind::io_uring
                    : backend == zell::IoBackend::kEpoll ? zio::BackendKind::epoll
                                                         : zio::BackendKind::automatic;
  std::error_code ec;
  auto probe = zio::Loop::create(options, ec);
  if (!probe) return "no io backend (" + ec.message() + ")";
  // zio words it: "zio backend epoll (ZAP_IO_BACKEND=epoll)".
  return std::string(probe->backend_reason());
}

}  // namespace zap::app
