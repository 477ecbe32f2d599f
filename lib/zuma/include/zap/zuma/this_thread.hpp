// Functions on the calling thread: its name, its CPU affinity, the CPU and NUMA node it is on.
//
//   zap::zuma::this_thread::set_name("zell-timer");
//   if (auto ec = zap::zuma::this_thread::set_affinity(zap::zuma::CpuSet{0})) log(ec);
//   auto cpu = zap::zuma::this_thread::current_cpu();    // Result<unsigned>
//
// CPU and node numbers here are the kernel's (real CPUs). A simulated Topology maps its logical
// CPUs onto real ones (Topology::os_cpu_of); pin with the real id, and keep the logical id
// yourself. current_cpu()/current_node() are snapshots: the thread may migrate right after unless
// pinned.
//
// Thread-safety: every function acts on the calling thread only; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "zap/zuma/cpu_set.hpp"
#include "zap/zuma/result.hpp"

namespace zap::zuma::this_thread {

// Sets the name (at most 15 characters, else invalid_argument; no silent truncation).
std::error_code set_name(std::string_view name);
// The current name (as pthread_getname_np reports it).
Result<std::string> name();

// Restricts the calling thread to `cpus` (real CPU ids). Empty set: invalid_argument; CPUs the
// process may not use: EINVAL (system_category).
std::error_code set_affinity(const CpuSet& cpus) noexcept;
// The CPUs the calling thread may run on.
Result<CpuSet> affinity() noexcept;

// The CPU the calling thread is running on (sched_getcpu). ENOSYS if the kernel cannot tell.
Result<unsigned> current_cpu() noexcept;
// The NUMA node of that CPU (getcpu syscall); 0 on a kernel without NUMA. ENOSYS if unknown.
Result<unsigned> current_node() noexcept;

}  // namespace zap::zuma::this_thread
