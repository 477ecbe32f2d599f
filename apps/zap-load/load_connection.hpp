// run_connection: one zap-load connection -- connect, then send patterned messages and check
// every byte that comes back, keeping up to `pipeline` messages in flight.
//
// Closed loop (no --rate): a message goes as soon as a pipeline slot is free; its latency runs
// from its send. Fixed rate: message k of connection i is *intended* at start + (i / connections
// + k) * interval (the connections take turns, one message every 1 / rate); it
// goes at that time, or as soon as a slot frees if the server is behind, and its latency runs
// from the intended time -- a server that stalls is charged for every message it delayed, as in
// wrk2. The connection stops sending at the deadline (or when the shared request quota is
// spent), then waits for what is still in flight.
//
// requests_per_connection: after that many replies the connection is closed (every reply in:
// nothing unread, so a clean FIN) and a new one opened, its connect counted in the latency of
// its first request (closed loop; at a fixed rate latency runs from the due time as always).
// A connection that fails (a refused connect, a reset, a timeout) is counted as an error, which
// makes the run fail, and its messages in flight are written off (counted as lost). Without
// requests_per_connection that ends its slot for the rest of the run; with it, as in wrk, the
// slot opens another connection and goes on -- after a 10 ms pause if the failed one got no
// reply at all (refused at connect, or closed on arrival by a full server), so that such a
// server is not hammered in a busy loop. A request-count run (no deadline) gives a slot up
// after 100 connections in a row fail without a reply. Sequence numbers and the byte pattern
// run on across connections. Per connection: two buffers (at most 256 KiB each, whatever the
// message size: messages are sent in pieces) and the in-flight timestamps, allocated once;
// nothing per message. A connection never waits to send without reading what comes back, so
// messages and pipelines larger than the socket buffers cannot stall it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <zap/zell/task.hpp>

#include "latency_histogram.hpp"
#include "load_options.hpp"

namespace zap::load {

// Shared by every connection of a run; read-only but for the quota.
struct RunPlan {
  const LoadOptions* options = nullptr;
  std::int64_t start_ns = 0;                   // steady clock
  std::int64_t stop_sending_ns = INT64_MAX;    // duration runs
  std::atomic<std::int64_t>* quota = nullptr;  // request-count runs: requests left to claim
  double interval_ns = 0;                      // per connection; 0: closed loop
  std::atomic<bool>* stop = nullptr;           // set (SIGINT): send no more, finish what is out
};

// Updated as the run goes, for the progress line (relaxed: statistics only).
struct LiveCounters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> errors{0};           // each counted once more below, by kind
  std::atomic<std::uint64_t> connect_errors{0};   // socket() or connect() failed
  std::atomic<std::uint64_t> read_errors{0};      // recv failed, or the server closed early
  std::atomic<std::uint64_t> write_errors{0};     // send failed
  std::atomic<std::uint64_t> timeouts{0};         // any of those that took longer than --timeout
  std::atomic<std::uint64_t> requests_lost{0};    // in flight on a connection that failed
  std::atomic<std::uint64_t> requests_unsent{0};  // fixed rate: due before the end, never sent
  std::atomic<std::uint64_t> verify_failures{0};  // messages with at least one wrong byte
  std::atomic<std::uint64_t> connects{0};         // connections opened (and established)
};

// What one connection did, read after it finished.
struct ConnectionReport {
  LatencyHistogram latency;
  std::string first_error;       // empty: none
  std::int64_t finished_ns = 0;  // steady clock: its last reply (raw: its last send) came back
};

std::int64_t steady_now_ns() noexcept;

zell::Task<void> run_connection(std::uint32_t index, const RunPlan& plan, LiveCounters& live,
                                ConnectionReport& report);

}  // namespace zap::load
