// What zap-load prints: a live progress line each second (stderr), the final table (stdout),
// and optionally the same numbers as JSON.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "latency_histogram.hpp"
#include "load_options.hpp"

namespace zap::load {

struct LoadSummary {
  double elapsed_s = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t errors = 0;
  // errors by kind (as wrk's "Socket errors"): a failed step that timed out counts as a timeout.
  std::uint64_t connect_errors = 0;
  std::uint64_t read_errors = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t verify_failures = 0;
  std::uint32_t connections_failed = 0;  // slots (-c) that never completed a request
  std::uint64_t requests_lost = 0;       // sent on a connection that failed, never answered
  std::uint64_t requests_unsent = 0;     // fixed rate: due before the end, never sent
  std::uint64_t connects = 0;            // connections opened over the run
  std::string first_error;
  LatencyHistogram latency;  // all connections, merged
};

// "[  3.0s]  245123 req/s   15.7 MB/s in   errors 0   verify 0"; the deltas over the last second.
void print_progress(std::FILE* out, double elapsed_s, std::uint64_t requests_delta,
                    std::uint64_t bytes_in_delta, double interval_s, std::uint64_t errors,
                    std::uint64_t verify_failures);

void print_table(std::FILE* out, const LoadOptions& options, const LoadSummary& summary);
std::string render_json(const LoadOptions& options, const LoadSummary& summary);

}  // namespace zap::load
