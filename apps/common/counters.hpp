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

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <zap/zync/cache_padded.hpp>

#include "worker_placement.hpp"

namespace zap::app {

struct WorkerCounters {
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};

  void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

class Counters {
 public:
  explicit Counters(std::size_t workers);
  // One worker per entry of `placement` (at least one).
  explicit Counters(std::vector<WorkerPlacement> placement);

  WorkerCounters& worker(std::size_t index) { return *workers_[index % workers_.size()]; }
  std::size_t workers() const { return workers_.size(); }

  std::string render_json() const;
  std::string render_prometheus(const std::string& prefix) const;

 private:
  std::vector<zync::CachePadded<WorkerCounters>> workers_;
  std::vector<WorkerPlacement> placement_;  // empty, or one per worker; fixed after construction
};

}  // namespace zap::app
