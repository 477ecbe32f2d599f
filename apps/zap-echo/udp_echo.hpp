// udp_echo: sends every datagram back to its sender, as it came.
//
// One task per socket per worker; it owns a 64 KiB buffer (the largest UDP payload) for its life.
// A failed send (no route, full buffer) drops that datagram and is counted as an error: UDP
// promises no delivery, and one bad peer must not stop the others.
#pragma once

#include <zap/zell/task.hpp>

#include "counters.hpp"

namespace zap::echo {

zell::Task<void> udp_echo(int socket, app::WorkerCounters& counters);

}  // namespace zap::echo
