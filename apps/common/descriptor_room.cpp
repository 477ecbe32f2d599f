#include "descriptor_room.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace zap::app {

DescriptorRoom::Verdict DescriptorRoom::after_accept(int fd, std::int64_t now_ns) noexcept {
  if (!read_once_ || now_ns - read_ns_ >= kRereadNs) {
    rlimit limit{};
    limit_ = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                 ? static_cast<std::uint64_t>(limit.rlim_cur)
                 : 0;
    read_ns_ = now_ns;
    read_once_ = true;
  }
  if (limit_ == 0) return kPlenty;
  const std::uint64_t free = above(fd);
  if (free < per_connection_ - 1) return kFull;
  if (free < kTightConnections * per_connection_) return kTight;
  return kPlenty;
}

DescriptorRoom::Verdict DescriptorRoom::after_accept(int fd) noexcept {
  return after_accept(fd, std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count());
}

bool DescriptorRoom::room_for_next(int any_fd, std::uint64_t owed) noexcept {
  if (per_connection_ == 1) return true;
  return free_at_least(any_fd, 1 + (per_connection_ - 1) * (1 + owed));
}

bool DescriptorRoom::rest_free(int held, std::uint64_t owed) noexcept {
  if (per_connection_ == 1) return true;
  return free_at_least(held, (per_connection_ - 1) * (1 + owed));
}

bool DescriptorRoom::free_at_least(int any_fd, std::uint64_t count) noexcept {
  forget();
  (void)after_accept(any_fd);  // re-reads the limit (the verdict on any_fd's number is no use)
  if (limit_ == 0) return true;
  const std::uint64_t needed = std::min(count, kMaxLook);
  // Each dup takes the lowest free number: as many as are needed, or until EMFILE.
  std::array<int, kMaxLook> probes{};
  std::uint64_t found = 0;
  while (found < needed) {
    const int probe = ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
    if (probe < 0) break;
    probes[found++] = probe;
  }
  for (std::uint64_t i = 0; i < found; ++i) ::close(probes[i]);
  return found >= needed;
}

std::uint64_t DescriptorRoom::above(int fd) const noexcept {
  const auto number = static_cast<std::uint64_t>(fd < 0 ? 0 : fd);
  return number + 1 >= limit_ ? 0 : limit_ - 1 - number;
}

}  // namespace zap::app
