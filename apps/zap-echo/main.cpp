// zap-echo: a TCP/UDP echo daemon, and the smallest complete example of a zap server: config and
// flags, logging, a zell runtime laid out from the config, listeners, an admin endpoint, and
// signals (SIGTERM/SIGINT drain, SIGHUP reload).
#include <cstdio>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>
#include <zap/zell/runtime.hpp>
#include <zap/zync/event.hpp>

#include "address_setting.hpp"
#include "admin_server.hpp"
#include "command_line.hpp"
#include "counters.hpp"
#include "echo_server.hpp"
#include "echo_settings.hpp"
#include "logging.hpp"
#include "port_file.hpp"
#include "reload.hpp"
#include "runtime_config.hpp"
#include "signals.hpp"

namespace {

using namespace zap;

constexpr const char* kFooter = R"(
Without --config zap-echo uses its built-in config: TCP echo on 127.0.0.1:7000, one worker per
CPU, per_worker accept. See configs/echo.json for every key.

Signals: SIGTERM/SIGINT stop accepting and let open connections finish for shutdown_grace_ms (a
second signal closes them at once); SIGHUP re-reads --config and applies log.level,
max_connections and idle_timeout_ms.

Examples:
  zap-echo --config configs/echo.json --check
  zap-echo --listen 127.0.0.1:0 --port-file /tmp/echo.port --admin 127.0.0.1:9901)";

int run(int argc, char** argv) {
  app::SignalWatcher::block_signals();  // before any thread exists, so every thread inherits it

  CLI::App cli{"zap-echo: TCP/UDP echo server on the zap runtime"};
  cli.footer(kFooter);
  echo::EchoFlags flags;
  echo::add_echo_flags(cli, flags);
  CLI11_PARSE(cli, argc, argv);

  const echo::EchoSettings settings = echo::load_echo_settings(flags);
  const zell::RuntimeConfig runtime_config =
      app::to_runtime_config(settings.daemon.runtime, "echo");
  if (flags.common.check) {
    std::printf("zap-echo: config %s is valid\n",
                flags.common.config.empty() ? "<built-in>" : flags.common.config.c_str());
    return 0;
  }

  app::setup_logging("zap-echo", settings.daemon.log);
  zell::Runtime runtime(runtime_config);
  spdlog::info("zap-echo {} starting: {}", ZAP_VERSION_STRING,
               app::describe_runtime(runtime_config, runtime.worker_count()));

  app::Counters counters(app::worker_placement(runtime, runtime_config));
  echo::EchoServer server(settings, runtime.worker_count(), counters);
  std::unique_ptr<app::AdminServer> admin;
  if (settings.daemon.admin_listen) {
    admin = std::make_unique<app::AdminServer>(
        app::parse_address_setting(*settings.daemon.admin_listen, "admin.listen"),
        app::AdminServer::Renderers{[&] { return counters.render_json(); },
                                    [&] { return counters.render_prometheus("zap_echo"); }});
  }
  std::vector<std::string> bound = server.bound_addresses();
  if (admin) {
    bound.push_back(admin->bound().to_string());
    spdlog::info("admin: /stats and /metrics on http://{}", bound.back());
  }

  server.start(runtime);
  if (admin) admin->start(runtime);
  if (!flags.common.port_file.empty()) app::write_port_file(flags.common.port_file, bound);

  zync::Event stop_requested;
  echo::Reloader reloader(flags, settings, server);
  app::SignalWatcher signals({.on_stop =
                                  [&](int count) {
                                    if (count == 1) {
                                      spdlog::info("stop requested: draining");
                                      stop_requested.set();
                                    } else {
                                      spdlog::warn("second stop signal: closing connections now");
                                      server.hurry();
                                    }
                                  },
                              .on_reload = [&] { reloader.reload(); }});
  stop_requested.wait();

  server.stop_accepting();
  const std::chrono::milliseconds grace(settings.daemon.shutdown_grace_ms);
  spdlog::info("listeners closed; waiting up to {} ms for {} open connection(s)", grace.count(),
               server.open_connections());
  if (!server.drain(grace)) {
    spdlog::warn("grace period over: closing {} connection(s)", server.open_connections());
  }
  if (admin) admin->stop();
  runtime.shutdown();  // tasks still running are destroyed here, closing their sockets
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return zap::app::guarded_main("zap-echo", [&] { return run(argc, argv); });
}
