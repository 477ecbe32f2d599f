// zap-http: an HTTP/1.1 static file server on the zap runtime -- what nginx does for static
// files: keep-alive and pipelining, conditional and range requests, redirects to directories'
// index files, a per-worker file cache, strict request parsing and time limits.
#include <cstdio>

#include <spdlog/spdlog.h>
#include <zap/zell/runtime.hpp>

#include "command_line.hpp"
#include "counters.hpp"
#include "descriptor_limit.hpp"
#include "http_server.hpp"
#include "http_settings.hpp"
#include "logging.hpp"
#include "reload.hpp"
#include "runtime_config.hpp"
#include "serve_until_stopped.hpp"
#include "signals.hpp"

namespace {

using namespace zap;

constexpr const char* kFooter = R"(
Without --config zap-http serves the current directory on 127.0.0.1:8080, one worker per CPU.
See configs/http.json for every key.

Signals: SIGTERM/SIGINT stop accepting, close idle keep-alive connections and let requests in
progress finish for shutdown_grace_ms (a second signal closes them at once); SIGHUP re-reads
--config and applies log.level, max_connections and the connection timeouts.

Examples:
  zap-http --root ./public --listen 0.0.0.0:8080
  zap-http --config configs/http.json --check
  zap-http --config configs/http.json --admin 127.0.0.1:9902)";

int run(int argc, char** argv) {
  app::SignalWatcher::ignore_reload_until_blocked();
  CLI::App cli{"zap-http: HTTP/1.1 static file server on the zap runtime"};
  cli.footer(kFooter);
  http::HttpFlags flags;
  http::add_http_flags(cli, flags);
  CLI11_PARSE(cli, argc, argv);

  const http::HttpSettings settings = http::load_http_settings(flags);
  const zell::RuntimeConfig runtime_config =
      app::to_runtime_config(settings.daemon.runtime, "http");
  if (flags.common.check)
    return app::report_valid_config("zap-http", flags.common, settings.daemon);

  // Before any thread exists (spdlog's flusher is the first), so every thread inherits it; not
  // earlier, so that SIGTERM/SIGINT still end a start-up stuck reading its config.
  app::SignalWatcher::block_signals();
  app::setup_logging("zap-http", settings.daemon.log);
  zell::Runtime runtime(runtime_config);
  spdlog::info("zap-http {} starting: {}", ZAP_VERSION_STRING,
               app::describe_runtime(runtime_config, runtime.worker_count()));
  app::check_descriptor_limit(http::descriptor_need(settings));

  app::Counters counters(app::worker_placement(runtime, runtime_config), http::http_counters());
  http::HttpServer server(settings, runtime.worker_count(), counters);
  http::Reloader reloader(flags, settings, server);
  return app::serve_until_stopped(server, {.program = "zap-http",
                                           .metrics_prefix = "zap_http",
                                           .daemon = settings.daemon,
                                           .port_file = flags.common.port_file,
                                           .runtime = runtime,
                                           .counters = counters,
                                           .reload = [&] { reloader.reload(); }});
}

}  // namespace

int main(int argc, char** argv) {
  return zap::app::guarded_main("zap-http", [&] { return run(argc, argv); });
}
