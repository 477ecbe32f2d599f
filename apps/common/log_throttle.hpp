// LogThrottle: for a warning that can repeat many times a second -- accept() failing with EMFILE
// while the descriptor table is full, retried every 50 ms -- one line per interval at most, which
// says how many were left out since the last one.
//
//   LogThrottle throttle(std::chrono::seconds(5));
//   if (auto skipped = throttle.admit()) {
//     spdlog::warn("accept failed: {} ({} more since the last report)", why, *skipped);
//   }
//
// The first call is always admitted. Not thread-safe: one per acceptor (or guard it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace zap::app {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::nanoseconds interval) noexcept
      : interval_ns_(interval.count()) {}

  // Whether to log now (monotonic `now_ns`): if so, how many calls were not admitted since the
  // last admitted one.
  std::optional<std::uint64_t> admit(std::int64_t now_ns) noexcept {
    if (logged_once_ && now_ns - last_ns_ < interval_ns_) {
      ++skipped_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_ns_ = now_ns;
    const std::uint64_t skipped = skipped_;
    skipped_ = 0;
    return skipped;
  }
  // The same, now (steady clock).
  std::optional<std::uint64_t> admit() noexcept {
    return admit(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count());
  }
  // " (and N more times since the last report)", or "" for N = 0: the tail of the line.
  static std::string left_out(std::uint64_t skipped) {
    return skipped == 0 ? std::string()
                        : " (and " + std::to_string(skipped) + " more times since the last report)";
  }

 private:
  const std::int64_t interval_ns_;
  std::int64_t last_ns_ = 0;
  std::uint64_t skipped_ = 0;
  bool logged_once_ = false;
};

}  // namespace zap::app
