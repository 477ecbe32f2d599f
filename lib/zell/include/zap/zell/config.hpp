// RuntimeConfig: how a Runtime is laid out -- how many workers, on which CPUs, which topology,
// which IO backend.
//
//   zap::zell::RuntimeConfig config;
//   config.workers = 4;                                   // default: one per CPU
//   config.topology = *zap::zuma::Topology::parse("nodes=2 cores_per_node=2 cpus=0,1,0,1");
//   zap::zell::Runtime runtime(config);
//
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "zap/zuma/cpu_set.hpp"
#include "zap/zuma/topology.hpp"

namespace zap::zell {

enum class IoBackend : unsigned char {
  kAutomatic,  // io_uring when it works, else epoll (zio decides; ZAP_IO_BACKEND overrides)
  kIoUring,
  kEpoll,
  kNone,  // no IO loop: workers park on a futex (timers still work; IO awaitables fail)
};

struct RuntimeConfig {
  // Number of workers; 0 = one per logical CPU of `cpus`. Workers are assigned to the chosen
  // CPUs node by node, round-robin when there are more workers than CPUs.
  std::size_t workers = 0;
  // Logical CPUs (of the topology) to run workers on; nullopt = those whose real CPU the process
  // may run on when the runtime starts (its affinity: taskset, cgroup cpusets), else all.
  std::optional<zuma::CpuSet> cpus;
  // The machine; nullopt = zuma::Topology::system() (which honours ZAP_TOPOLOGY).
  std::optional<zuma::Topology> topology;
  IoBackend io_backend = IoBackend::kAutomatic;
  // Pin each worker to the real CPU of its logical CPU.
  bool pin_workers = true;
  // Worker thread stack size in bytes; 0 = the pthread default.
  std::size_t worker_stack_size = 0;
  // Upper bound on spawn_blocking() threads (started on demand, kept while busy).
  std::size_t max_blocking_threads = 64;
  // Prefix of worker thread names ("zell-w3").
  std::string name = "zell";
};

}  // namespace zap::zell
