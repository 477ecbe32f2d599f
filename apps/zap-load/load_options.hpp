// LoadOptions: what zap-load is asked to do, from its command line.
//
//   zap-load 127.0.0.1:7000 -c 64 -s 64 -p 1 -d 5          # closed loop, as fast as it can
//   zap-load 127.0.0.1:7000 -c 64 -s 64 -r 100000 -d 10    # fixed rate, latency from intent
//   zap-load 127.0.0.1:7000 -n 100000 --json result.json   # a request count instead of a time
//   zap-load 127.0.0.1:7000 -c 32 -k 1 -d 5                # a new connection for every request
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include <zap/zio/address.hpp>

namespace zap::load {

enum class Mode { kEcho, kRaw };

struct LoadOptions {
  std::string target = "127.0.0.1:7000";
  zio::SocketAddress address;  // parsed target
  std::uint32_t connections = 64;
  std::uint32_t size = 64;     // bytes per message
  std::uint32_t pipeline = 1;  // messages in flight per connection
  // Each connection is closed after this many requests and another opened in its place
  // (connection churn: accept, connect and close in every one); 0: kept for the whole run.
  std::uint32_t requests_per_connection = 0;
  double duration_s = 5.0;     // used when requests == 0
  std::uint64_t requests = 0;  // total over all connections; 0: run for duration_s
  double rate = 0;             // requests/s over all connections; 0: closed loop
  Mode mode = Mode::kEcho;
  std::uint32_t timeout_ms = 5000;  // connect, and each wait for a whole reply
  std::string json;                 // write a JSON report here ("-": stdout)
  bool progress = true;
  std::int64_t workers = 0;  // zell workers; 0: one per CPU
  std::string io_backend = "auto";
};

void add_load_flags(CLI::App& app, LoadOptions& options);
// Checks what CLI11 cannot (the target address); throws std::runtime_error with the flag's name.
void finish_load_options(LoadOptions& options);

}  // namespace zap::load
