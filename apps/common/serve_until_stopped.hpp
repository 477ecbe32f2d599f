// serve_until_stopped: the life of a zap daemon once its server is built -- admin endpoint, port
// file, signals, then the drain at SIGTERM/SIGINT -- shared by every daemon's main().
//
//   EchoServer server(settings, runtime.worker_count(), counters);
//   Reloader reloader(flags, settings, server);
//   return serve_until_stopped(server, {.program = "zap-echo", .metrics_prefix = "zap_echo",
//                                       .daemon = settings.daemon, .port_file = flags.port_file,
//                                       .runtime = runtime, .counters = counters,
//                                       .reload = [&] { reloader.reload(); }});
//
// `Server` needs bound_addresses(), start(runtime), stop_accepting(), drain(grace), hurry() and
// open_connections(). The first stop signal stops accepting and drains open connections for
// shutdown_grace_ms; a second closes them at once. The runtime is shut down before returning.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <zap/zell/runtime.hpp>
#include <zap/zync/event.hpp>

#include "address_setting.hpp"
#include "admin_server.hpp"
#include "counters.hpp"
#include "daemon_settings.hpp"
#include "logging.hpp"
#include "port_file.hpp"
#include "signals.hpp"

namespace zap::app {

struct DaemonRun {
  const char* program;         // "zap-echo"
  const char* metrics_prefix;  // "zap_echo"
  const DaemonSettings& daemon;
  const std::string& port_file;  // --port-file; empty: none
  zell::Runtime& runtime;
  Counters& counters;
  std::function<void()> reload;  // SIGHUP
  // /stats and /metrics; empty: the counters' own renderings.
  std::function<std::string()> render_stats = {};
  std::function<std::string()> render_metrics = {};
};

template <typename Server>
int serve_until_stopped(Server& server, const DaemonRun& run) {
  std::unique_ptr<AdminServer> admin;
  if (run.daemon.admin_listen) {
    admin = std::make_unique<AdminServer>(
        parse_address_setting(*run.daemon.admin_listen, "admin.listen"),
        AdminServer::Renderers{
            run.render_stats ? run.render_stats : [&] { return run.counters.render_json(); },
            run.render_metrics
                ? run.render_metrics
                : [&] { return run.counters.render_prometheus(run.metrics_prefix); }});
  }
  std::vector<std::string> bound = server.bound_addresses();
  if (admin) {
    bound.push_back(admin->bound().to_string());
    spdlog::info("admin: /stats and /metrics on http://{}", bound.back());
  }
  server.start(run.runtime);
  if (admin) admin->start(run.runtime);

  zync::Event stop_requested;
  // Ended before the runtime and the logger are: its handlers use both.
  std::optional<SignalWatcher> signals;
  signals.emplace(SignalWatcher::Handlers{
      .on_stop =
          [&](int count) {
            if (count == 1) {
              spdlog::info("stop requested: draining");
              stop_requested.set();
            } else {
              spdlog::warn("second stop signal: closing connections now");
              server.hurry();
            }
          },
      .on_reload =
          [&] {
            // First, whatever the config says: logrotate moved the file.
            if (const std::string error = reopen_log_file(); !error.empty()) {
              log_reload_error(error + "; still logging to what was open");
            }
            if (run.reload) run.reload();
          }});
  // Last: whoever reads the port file finds a daemon whose descriptors are all open (the signal
  // watcher's too) and which answers SIGTERM and SIGHUP.
  if (!run.port_file.empty()) write_port_file(run.port_file, bound);
  stop_requested.wait();

  server.stop_accepting();
  const std::chrono::milliseconds grace(run.daemon.shutdown_grace_ms);
  spdlog::info("listeners closed; waiting up to {} ms for {} open connection(s)", grace.count(),
               server.open_connections());
  if (!server.drain(grace)) {
    spdlog::warn("grace period over: closing {} connection(s)", server.open_connections());
  }
  signals.reset();  // a SIGHUP or SIGTERM from here on waits, blocked, until the exit
  if (admin) admin->stop();
  run.runtime.shutdown();  // tasks still running are destroyed here, closing their sockets
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace zap::app
