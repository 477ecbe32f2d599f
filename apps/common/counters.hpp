// Counters: per-worker connection and byte counters, rendered as JSON (/stats) or Prometheus text.
//
//   Counters counters(worker_placement(runtime, runtime_config));
//   counters.worker(id).bytes_in.fetch_add(n, std::memory_order_relaxed);
//   std::string body = counters.render_prometheus("zap_echo");
//
// Built from the workers' placement, each worker's JSON entry also says where it runs ("cpu",
// "os_cpu", "node") and /metrics gains <prefix>_worker_info{worker,cpu,os_cpu,node} 1, so that
// NUMA imbalance shows next to the numbers (the info-metric idiom: the counter series keep their
// one "worker" label and join on it). Built from a bare count, neither appears.
//
// Each worker's counters sit on their own cache lines, so workers never contend; readers sum them.
// Relaxed atomics: the numbers are statistics, nothing is ordered by them, and a reader only needs
// each value to be untorn. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <zap/zync/cache_padded.hpp>

#include "worker_placement.hpp"

namespace zap::app {

// Up to this many daemon-specific counters per worker (e.g. zap-http's responses by class).
inline constexpr std::size_t kMaxExtraCounters = 8;

// A daemon-specific counter: its name in /stats and /metrics, its help text, and whether it is
// a gauge (else a counter, "_total" in Prometheus).
struct ExtraCounter {
  std::string name;
  std::string help;
  bool gauge = false;
};

struct WorkerCounters {
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::array<std::atomic<std::uint64_t>, kMaxExtraCounters> extra{};  // as the Counters name them

  void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

class Counters {
 public:
  explicit Counters(std::size_t workers);
  // One worker per entry of `placement` (at least one), with `extras` after the common counters
  // (at most kMaxExtraCounters; index i is WorkerCounters::extra[i]).
  explicit Counters(std::vector<WorkerPlacement> placement, std::vector<ExtraCounter> extras = {});

  WorkerCounters& worker(std::size_t index) { return *workers_[index % workers_.size()]; }
  std::size_t workers() const { return workers_.size(); }

  std::string render_json() const;
  std::string render_prometheus(const std::string& prefix) const;

 private:
  std::vector<zync::CachePadded<WorkerCounters>> workers_;
  std::vector<WorkerPlacement> placement_;  // empty, or one per worker; fixed after construction
  std::vector<ExtraCounter> extras_;
};

}  // namespace zap::app
