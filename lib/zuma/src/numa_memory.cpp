// bind_to_node() and node_of_address(): NUMA placement through the raw mbind/get_mempolicy
// syscalls (no libnuma).
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "memory_util.hpp"
#include "zap/zuma/error.hpp"
#include "zap/zuma/virtual_memory.hpp"

namespace zap::zuma {
namespace {

constexpr unsigned kMaxNodes = 1024;
constexpr unsigned kBitsPerWord = sizeof(unsigned long) * 8;

std::error_code numa_error(int error) noexcept {
  switch (error) {
    case ENOSYS:  // kernel without CONFIG_NUMA
    case EPERM:   // seccomp or similar sandbox
      return make_error_code(Errc::kNumaUnavailable);
    default:
      return {error, std::system_category()};
  }
}

}  // namespace

std::error_code bind_to_node(void* ptr, std::size_t size, unsigned node,
                             bool move_existing) noexcept {
  size = detail::checked_range(ptr, size);
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  if (node >= kMaxNodes) return make_error_code(Errc::kNoSuchNode);
  std::array<unsigned long, kMaxNodes / kBitsPerWord> mask{};
  mask[node / kBitsPerWord] = 1UL << (node % kBitsPerWord);
  const unsigned flags = move_existing ? MPOL_MF_MOVE : 0;
  // maxnode: the kernel reads maxnode-1 bits (a historical off-by-one that libnuma also obeys).
  if (syscall(SYS_mbind, ptr, size, MPOL_BIND, mask.data(), kMaxNodes + 1, flags) != 0) {
    // EINVAL on arguments checked above: the node is not online, has no memory, or is outside
    // this process's cpuset.mems.
    if (errno == EINVAL) return make_error_code(Errc::kNoSuchNode);
    return numa_error(errno);
  }
  return {};
}

Result<unsigned> node_of_address(const void* address) noexcept {
  int node = -1;
  if (syscall(SYS_get_mempolicy, &node, nullptr, 0UL, address, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
    return numa_error(errno);
  }
  if (node < 0) return make_error_code(Errc::kNumaUnavailable);
  return static_cast<unsigned>(node);
}

}  // namespace zap::zuma
