#include "linux/deadline_clock.hpp"

#include <time.h>

namespace zap::zio::detail {
namespace {

constexpr std::int64_t kCoarseFromNs = 1'000'000'000;  // 1 s: a tick is <= 1 % of it

std::int64_t to_ns(const timespec& ts) noexcept {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Two ticks of the coarse clock, or -1 if it is not usable (absent, or ticks over 10 ms).
std::int64_t coarse_slack_ns() noexcept {
  timespec resolution{};
  if (::clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) return -1;
  const std::int64_t tick = to_ns(resolution);
  return tick > 0 && tick <= 10'000'000 ? 2 * tick : -1;
}

const std::int64_t kCoarseSlackNs = coarse_slack_ns();

}  // namespace

std::int64_t monotonic_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall
  return to_ns(ts);
}

std::int64_t deadline_after(std::int64_t timeout_ns) noexcept {
  if (timeout_ns >= kCoarseFromNs && kCoarseSlackNs > 0) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return expiry_after(to_ns(ts) + kCoarseSlackNs, timeout_ns);
  }
  return expiry_after(monotonic_now_ns(), timeout_ns);
}

}  // namespace zap::zio::detail
