// detail: a timer armed on a worker's timer heap. Not for users.
//
// The entry lives in the awaiting coroutine's frame; the worker's heap points at it while armed.
// Arm, disarm and fire all happen on the owning worker's thread.
#pragma once

#include <cstdint>

namespace zap::zell::detail {

class Worker;

struct TimerEntry {
  std::int64_t deadline_ns = 0;  // steady clock
  std::uint32_t heap_slot = 0;   // 1 + position in the heap; 0 = not armed
  void (*fire)(TimerEntry* self) noexcept = nullptr;
  void* context = nullptr;  // the awaiter owning the entry
};

// Steady-clock nanoseconds.
std::int64_t now_ns() noexcept;
// Arms `entry` on `worker` (the calling thread must be that worker).
void timer_arm(Worker* worker, TimerEntry* entry) noexcept;
// Disarms `entry` if armed (on its worker's thread).
void timer_disarm(Worker* worker, TimerEntry* entry) noexcept;

}  // namespace zap::zell::detail
