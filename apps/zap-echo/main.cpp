// zap-echo: a TCP/UDP echo daemon, and the smallest complete example of a zap server: config and
// flags, logging, a zell runtime laid out from the config, listeners, an admin endpoint, and
// signals (SIGTERM/SIGINT drain, SIGHUP reload).
#include <cstdio>

#include <spdlog/spdlog.h>
#include <zap/zell/runtime.hpp>

#include "command_line.hpp"
#include "counters.hpp"
#include "descriptor_limit.hpp"
#include "echo_server.hpp"
#include "echo_settings.hpp"
#include "logging.hpp"
#include "reload.hpp"
#include "runtime_config.hpp"
#include "serve_until_stopped.hpp"
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
  app::SignalWatcher::ignore_reload_until_blocked();
  CLI::App cli{"zap-echo: TCP/UDP echo server on the zap runtime"};
  cli.footer(kFooter);
  echo::EchoFlags flags;
  echo::add_echo_flags(cli, flags);
  CLI11_PARSE(cli, argc, argv);

  const echo::EchoSettings settings = echo::load_echo_settings(flags);
  const zell::RuntimeConfig runtime_config =
      app::to_runtime_config(settings.daemon.runtime, "echo");
  if (flags.common.check)
    return app::report_valid_config("zap-echo", flags.common, settings.daemon);

  // Before any thread exists (spdlog's flusher is the first), so every thread inherits it; not
  // earlier, so that SIGTERM/SIGINT still end a start-up stuck reading its config.
  app::SignalWatcher::block_signals();
  app::setup_logging("zap-echo", settings.daemon.log);
  zell::Runtime runtime(runtime_config);
  spdlog::info("zap-echo {} starting: {}", ZAP_VERSION_STRING,
               app::describe_runtime(runtime_config, runtime.worker_count()));
  app::check_descriptor_limit(echo::descriptor_need(settings));

  app::Counters counters(app::worker_placement(runtime, runtime_config));
  echo::EchoServer server(settings, runtime.worker_count(), counters);
  echo::Reloader reloader(flags, settings, server);
  return app::serve_until_stopped(server, {.program = "zap-echo",
                                           .metrics_prefix = "zap_echo",
                                           .daemon = settings.daemon,
                                           .port_file = flags.common.port_file,
                                           .runtime = runtime,
                                           .counters = counters,
                                           .reload = [&] { reloader.reload(); }});
}

}  // namespace

int main(int argc, char** argv) {
  return zap::app::guarded_main("zap-echo", [&] { return run(argc, argv); });
}
