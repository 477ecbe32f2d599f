#include "load_options.hpp"

#include <stdexcept>

namespace zap::load {

void add_load_flags(CLI::App& app, LoadOptions& options) {
  app.add_option("target", options.target, "Server address ip:port or [ipv6]:port")
      ->capture_default_str();
  app.add_option("-c,--connections", options.connections, "Connections")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  app.add_option("-s,--size", options.size, "Message size in bytes")
      ->check(CLI::Range(1u, 16u << 20))
      ->capture_default_str();
  app.add_option("-p,--pipeline", options.pipeline, "Messages in flight per connection")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("-k,--requests-per-connection", options.requests_per_connection,
                 "Close each connection after this many requests and open another (echo mode; "
                 "1: a new connection per request, as a connection-rate test; a connection that "
                 "fails is counted and replaced). 0: keep them (one that fails is not replaced)")
      ->check(CLI::Range(0u, 1u << 30))
      ->capture_default_str();
  app.add_option("-d,--duration", options.duration_s, "Seconds to run (unless --requests)")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  app.add_option("-n,--requests", options.requests,
                 "Total requests over all connections, instead of a duration");
  app.add_option("-r,--rate", options.rate,
                 "Fixed request rate over all connections (req/s), the connections taking turns; "
                 "latency is measured from each request's intended send time, so a stalled "
                 "server cannot hide (no coordinated omission), and requests due but never sent "
                 "are reported. 0: as fast as replies come")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--mode", options.mode,
                 "echo: verify every echoed byte and measure latency; raw: send (to a raw TCP "
                 "sink), count bytes, drop what comes back")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Mode>{{"echo", Mode::kEcho}, {"raw", Mode::kRaw}}));
  app.add_option("--timeout-ms", options.timeout_ms,
                 "Connect timeout, and the longest wait for a whole reply; the run ends at most "
                 "this long past its duration (then: an error)")
      ->check(CLI::Range(1u, 3'600'000u))
      ->capture_default_str();
  app.add_option("--json", options.json,
                 "Also write the result as JSON to FILE (-: stdout, and the table goes to stderr)");
  app.add_flag("!--no-progress", options.progress, "No live progress line on stderr");
  app.add_option("-w,--workers", options.workers, "zell workers (0: one per CPU)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--io-backend", options.io_backend, "auto, io_uring or epoll")
      ->check(CLI::IsMember({"auto", "io_uring", "epoll"}));
}

void finish_load_options(LoadOptions& options) {
  if (options.requests_per_connection > 0 && options.mode != Mode::kEcho) {
    throw std::runtime_error("--requests-per-connection: echo mode only");
  }
  // (CLI11's range check lets NaN through, and a rate below this makes due times overflow.)
  if (!(options.rate == 0 || (options.rate >= 0.001 && options.rate <= 1e9))) {
    throw std::runtime_error("--rate: expected 0 (closed loop) or 0.001-1e9 requests/s");
  }
  if (options.requests > (std::uint64_t{1} << 62)) {  // (also -n -1, which wraps to 2^64 - 1)
    throw std::runtime_error("--requests: expected at most 2^62");
  }
  std::error_code ec;
  options.address = zio::SocketAddress::parse(options.target, ec);
  if (ec || (options.address.family() != AF_INET && options.address.family() != AF_INET6)) {
    throw std::runtime_error("target: expected ip:port or [ipv6]:port, got \"" + options.target +
                             "\"");
  }
}

}  // namespace zap::load
