// Pinning benchmark threads, so that every run (and every implementation in a run) places its
// threads the same way. On a small shared machine, where the scheduler puts the threads otherwise
// decides the result: same-core hand-offs are cheap, cross-core ones are what is measured.
#pragma once

#include <sched.h>

namespace zap::bench {

// Pins the calling thread to the (slot mod n)-th CPU the process may run on (on 2 CPUs with 4
// threads: two per CPU). Returns the previous mask, for restore_affinity().
inline cpu_set_t pin_to_cpu_slot(int slot) {
  cpu_set_t previous;
  CPU_ZERO(&previous);
  if (::sched_getaffinity(0, sizeof(previous), &previous) != 0 || CPU_COUNT(&previous) == 0)
    return previous;
  int target = slot % CPU_COUNT(&previous);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &previous) || target-- != 0) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)::sched_setaffinity(0, sizeof(one), &one);
    break;
  }
  return previous;
}

inline void restore_affinity(const cpu_set_t& mask) {
  (void)::sched_setaffinity(0, sizeof(mask), &mask);
}

// Runs `body` on the calling thread pinned as by pin_to_cpu_slot(slot); the mask is restored
// afterwards. Returns what `body` returns.
template <typename Body>
auto run_on_cpu_slot(int slot, Body&& body) {
  const cpu_set_t previous = pin_to_cpu_slot(slot);
  auto result = body();
  restore_affinity(previous);
  return result;
}

}  // namespace zap::bench
