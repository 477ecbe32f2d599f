// The wait policy of the queue benchmarks, the same for zap and its peers.
#pragma once

#include <sched.h>

#include "zap/zync/spin_hint.hpp"

namespace zap::bench {

// Retries `attempt` until it succeeds: spins a little, then gives the core away (the machine
// may have fewer free cores than the benchmark has threads).
template <typename Attempt>
void spin_until(Attempt&& attempt) {
  for (unsigned spins = 0; !attempt(); ++spins) {
    if (spins < 64) {
      zap::zync::spin_hint();
    } else {
      ::sched_yield();
    }
  }
}

}  // namespace zap::bench
