// zap-load: a load generator for echo servers (and raw TCP sinks), written on zap -- every
// connection is a zell task, pinned to a worker; replies are verified byte by byte.
// Exit status: 0 only if every request sent completed with the right bytes and nothing failed
// (fixed rate: messages never sent are reported, not failed).
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>
#include <zap/zell/runtime.hpp>
#include <zap/zync/cache_padded.hpp>
#include <zap/zync/event.hpp>

#include "command_line.hpp"
#include "descriptor_limit.hpp"
#include "load_connection.hpp"
#include "load_options.hpp"
#include "load_report.hpp"
#include "runtime_config.hpp"

namespace {

using namespace zap;

constexpr const char* kFooter = R"(
Exit status is 0 only if every request sent completed, every echoed byte matched, nothing more
came back, and no connection failed: tests can rely on it. At a fixed rate, messages a slow
server held back past the end are reported as "unsent requests", which alone is no failure (as
in wrk2): check that count to learn whether the server kept up. Ctrl-C (SIGINT) or SIGTERM stops sending, waits for the replies
in flight, and prints the results so far; a second one exits at once.

Examples:
  zap-load 127.0.0.1:7000 -c 64 -s 64 -d 5                  # closed loop, 64 connections
  zap-load 127.0.0.1:7000 -c 16 -s 1024 -p 8 -n 100000      # pipelined, fixed request count
  zap-load 127.0.0.1:7000 -c 64 -r 50000 -d 10 --json -     # fixed rate, JSON on stdout
  zap-load 127.0.0.1:7000 -c 32 -k 1 -d 5                   # a new connection per request)";

// The whole run's numbers, summed over the connections. The latency histograms belong to the
// connections' tasks until they have finished: merge them (`final`) only then -- the progress
// line reads the live atomics alone.
load::LoadSummary summarize(const std::vector<load::ConnectionReport>& reports,
                            const std::vector<zync::CachePadded<load::LiveCounters>>& live,
                            double elapsed_s, bool final) {
  load::LoadSummary s;
  s.elapsed_s = elapsed_s;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const load::LiveCounters& c = *live[i];
    s.requests += c.requests.load(std::memory_order_relaxed);
    s.bytes_out += c.bytes_out.load(std::memory_order_relaxed);
    s.bytes_in += c.bytes_in.load(std::memory_order_relaxed);
    s.errors += c.errors.load(std::memory_order_relaxed);
    s.connect_errors += c.connect_errors.load(std::memory_order_relaxed);
    s.read_errors += c.read_errors.load(std::memory_order_relaxed);
    s.write_errors += c.write_errors.load(std::memory_order_relaxed);
    s.timeouts += c.timeouts.load(std::memory_order_relaxed);
    s.requests_lost += c.requests_lost.load(std::memory_order_relaxed);
    s.requests_unsent += c.requests_unsent.load(std::memory_order_relaxed);
    s.verify_failures += c.verify_failures.load(std::memory_order_relaxed);
    s.connects += c.connects.load(std::memory_order_relaxed);
    if (!final) continue;
    s.latency.merge(reports[i].latency);
    if (!reports[i].first_error.empty()) {
      if (s.first_error.empty()) s.first_error = reports[i].first_error;
      if (c.requests.load(std::memory_order_relaxed) == 0) ++s.connections_failed;
    }
  }
  return s;
}

// Writes the JSON report to `path` ("-": stdout); false (said on stderr) if it could not.
bool write_json(const std::string& path, const std::string& json) {
  std::FILE* out = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "zap-load: --json %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  const bool written = std::fputs(json.c_str(), out) >= 0 && std::fflush(out) == 0;
  const int error = errno;
  const bool closed = out == stdout || std::fclose(out) == 0;
  if (!written || !closed) {
    std::fprintf(stderr, "zap-load: --json %s: %s\n", path.c_str(),
                 std::strerror(written ? errno : error));
    return false;
  }
  return true;
}

int run(int argc, char** argv) {
  CLI::App cli{"zap-load: load generator for echo servers, on the zap runtime"};
  cli.footer(kFooter);
  cli.set_version_flag("--version", std::string("zap-load ") + ZAP_VERSION_STRING);
  load::LoadOptions options;
  load::add_load_flags(cli, options);
  CLI11_PARSE(cli, argc, argv);
  load::finish_load_options(options);
  // A report that cannot be written is found now, not after the run (the file is created).
  if (!options.json.empty() && options.json != "-" && !write_json(options.json, "")) return 1;
  // As the daemons do: thousands of connections need more than a soft limit of 1024.
  (void)app::raise_descriptor_limit();
  // SIGINT and SIGTERM are taken by the main thread's sigtimedwait below, never delivered: the
  // mask is set before the runtime's threads exist, and they inherit it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  app::RuntimeSettings runtime_settings;
  runtime_settings.workers = options.workers;
  runtime_settings.io_backend = options.io_backend;
  zell::Runtime runtime(app::to_runtime_config(runtime_settings, "load"));

  std::vector<zync::CachePadded<load::LiveCounters>> live(options.connections);
  std::vector<load::ConnectionReport> reports(options.connections);
  std::atomic<std::int64_t> quota(static_cast<std::int64_t>(options.requests));
  std::atomic<bool> stop(false);
  load::RunPlan plan;
  plan.options = &options;
  plan.stop = &stop;
  plan.start_ns = load::steady_now_ns();
  if (options.requests > 0) {
    plan.quota = &quota;
  } else {
    plan.stop_sending_ns = plan.start_ns + static_cast<std::int64_t>(options.duration_s * 1e9);
  }
  if (options.rate > 0) plan.interval_ns = 1e9 * options.connections / options.rate;

  // Connections are spread evenly over the workers and stay there (no migration mid-run).
  std::vector<zell::JoinHandle<void>> handles;
  handles.reserve(options.connections);
  for (std::uint32_t i = 0; i < options.connections; ++i) {
    handles.push_back(runtime.spawn_on_worker(i % runtime.worker_count(),
                                              load::run_connection(i, plan, *live[i], reports[i])));
  }

  // Progress once a second until every connection has finished; a stop signal in between.
  std::uint64_t last_requests = 0, last_bytes = 0;
  std::int64_t last_ns = plan.start_ns;
  for (;;) {
    bool all_done = true;
    for (const auto& handle : handles) all_done = all_done && handle.is_finished();
    if (all_done) break;
    const timespec tick = {0, 50'000'000};
    if (const int signal = sigtimedwait(&stop_signals, nullptr, &tick); signal > 0) {
      if (stop.exchange(true, std::memory_order_relaxed)) {
        std::fprintf(stderr, "zap-load: %s again: exiting without results\n", strsignal(signal));
        std::_Exit(130);
      }
      std::fprintf(stderr, "zap-load: %s: sending no more; waiting for the replies in flight\n",
                   strsignal(signal));
    }
    const std::int64_t now = load::steady_now_ns();
    if (now - last_ns < 1'000'000'000) continue;
    const load::LoadSummary so_far =
        summarize(reports, live, double(now - plan.start_ns) / 1e9, false);
    if (options.progress) {
      load::print_progress(stderr, so_far.elapsed_s, so_far.requests - last_requests,
                           so_far.bytes_in - last_bytes, double(now - last_ns) / 1e9, so_far.errors,
                           so_far.verify_failures);
    }
    last_requests = so_far.requests;
    last_bytes = so_far.bytes_in;
    last_ns = now;
  }
  for (auto& handle : handles) handle.get();  // rethrows what a connection task threw
  // The run lasted until its last connection ended (load_connection.cpp: its last reply, its
  // failure, or the end of the duration): not until this thread's next look.
  std::int64_t finished_ns = plan.start_ns;
  for (const load::ConnectionReport& report : reports) {
    finished_ns = std::max(finished_ns, report.finished_ns);
  }
  const double elapsed = double(finished_ns - plan.start_ns) / 1e9;
  runtime.shutdown();

  const load::LoadSummary summary = summarize(reports, live, elapsed, true);
  // With the JSON on stdout, the table goes to stderr: stdout stays one JSON document.
  std::FILE* table = options.json == "-" ? stderr : stdout;
  load::print_table(table, options, summary);
  bool ok = summary.errors == 0 && summary.verify_failures == 0 && summary.requests > 0;
  if (std::fflush(table) != 0 || std::ferror(table) != 0) {
    std::fprintf(stderr, "zap-load: cannot write the results: %s\n", std::strerror(errno));
    ok = false;
  }
  if (!options.json.empty() && !write_json(options.json, load::render_json(options, summary))) {
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return zap::app::guarded_main("zap-load", [&] { return run(argc, argv); });
}
