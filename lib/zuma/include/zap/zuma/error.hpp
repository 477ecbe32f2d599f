// zuma's own error conditions, as a std::error_code category ("zap.zuma").
//
//   std::error_code ec = zap::zuma::bind_to_node(p, n, 1);
//   if (ec == zap::zuma::Errc::kNumaUnavailable) { /* run without NUMA placement */ }
//
// Failures that are plain OS errors keep their errno in std::system_category() (EAGAIN from
// pthread_create, ENOMEM from mmap, ...). zuma maps to the codes below only the cases where the
// errno alone would be ambiguous or misleading; each function's comment says which it returns.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <system_error>

namespace zap::zuma {

enum class Errc {
  // The kernel or the sandbox has no NUMA memory policy: mbind/get_mempolicy failed with ENOSYS
  // (kernel built without CONFIG_NUMA) or EPERM (e.g. a container's seccomp profile).
  kNumaUnavailable = 1,
  // The NUMA node does not exist, is offline, or is not in this process's allowed memory nodes
  // (mbind failed with EINVAL on otherwise valid arguments).
  kNoSuchNode,
  // Huge pages cannot be used: transparent huge pages are not built in (MADV_HUGEPAGE failed
  // with EINVAL), or the kernel reports no huge page size (no hugetlb support).
  kHugePagesUnavailable,
  // A TopologyBuilder was given an inconsistent description (a CPU twice, an empty core, ...).
  kInvalidTopology,
  // A sysfs or procfs file exists but its content could not be parsed.
  kMalformedSystemFile,
};

const std::error_category& zuma_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), zuma_category()};
}

}  // namespace zap::zuma

template <>
struct std::is_error_code_enum<zap::zuma::Errc> : std::true_type {};
