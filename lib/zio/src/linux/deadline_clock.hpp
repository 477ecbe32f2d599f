// The clocks of both backends' deadline heaps: the precise monotonic clock, and deadline_after()
// for an op's deadline.
//
// An op's deadline is read from the clock at every submission: a recv with an idle timeout pays
// a clock read per request. The vDSO's precise CLOCK_MONOTONIC reads the TSC (~24 ns on this
// project's test VM), the coarse one only the kernel's last tick (~5 ns) -- a few milliseconds
// behind. Deadlines of a second or more are armed from the coarse clock, pushed two ticks later
// so that a lag of up to two ticks (measured: just over one) cannot make one fire early; they
// may fire up to ~3 ticks (12 ms at HZ=250) late, a hundredth of their length at most. Shorter
// deadlines, and plain timers, use the precise clock.
#pragma once

#include <cstdint>

namespace zap::zio::detail {

std::int64_t monotonic_now_ns() noexcept;

// now + after, saturated: INT64_MAX means "never", not a wrap into the past.
inline std::int64_t expiry_after(std::int64_t now, std::int64_t after) noexcept {
  return after > INT64_MAX - now ? INT64_MAX : now + after;
}

// The expiry of a deadline `timeout_ns` (> 0) from now: never earlier than now + timeout_ns.
std::int64_t deadline_after(std::int64_t timeout_ns) noexcept;

}  // namespace zap::zio::detail
