#include "descriptor_room.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

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

bool DescriptorRoom::rest_free(int held) noexcept {
  if (per_connection_ == 1) return true;
  forget();
  (void)after_accept(held);  // re-reads the limit
  if (limit_ == 0) return true;
  // The lowest free number: the one the connection's next descriptor would get. EMFILE: none.
  const int probe = ::fcntl(held, F_DUPFD_CLOEXEC, 0);
  if (probe < 0) return false;
  const std::uint64_t free = 1 + above(probe);  // the probe's own number, and at most those above
  ::close(probe);
  return free >= per_connection_ - 1;
}

std::uint64_t DescriptorRoom::above(int fd) const noexcept {
  const auto number = static_cast<std::uint64_t>(fd < 0 ? 0 : fd);
  return number + 1 >= limit_ ? 0 : limit_ - 1 - number;
}

}  // namespace zap::app
