// echo_connection: one TCP echo connection -- receive, send the same bytes back, repeat.
//
// Order is kept because the connection does one thing at a time: a recv, then sends until every
// byte of it is out (partial sends resume where they stopped). The buffer is the only allocation,
// made once. The connection ends at the peer's FIN (after echoing all it sent), on a reset or
// broken pipe (counted as an error, nothing else is disturbed), after idle_timeout of silence,
// or when its task is cancelled at shutdown (then the socket closes with the task's frame).
//
// The task must stay on one worker (spawn_on_worker): the socket is used, and closed, through that
// worker's IO loop only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <zap/zell/task.hpp>
#include <zap/zio/fd.hpp>

#include "connection_gate.hpp"

namespace zap::echo {

struct EchoConnectionOptions {
  std::size_t buffer_size = 16384;      // at first
  std::size_t max_buffer_size = 65536;  // grown while a stream fills it (app::AdaptiveBuffer)
  const std::atomic<std::int64_t>* idle_timeout_ms = nullptr;  // live value; 0: none
};

zell::Task<void> echo_connection(zio::UniqueFd socket, app::ConnectionGate::Ticket ticket,
                                 EchoConnectionOptions options);

}  // namespace zap::echo
