// zap-proxy: a TCP (layer 4) proxy on the zap runtime -- what HAProxy's "mode tcp" does: a pool
// of backends, round-robin / least-connections / source balancing, TCP health checks, connect
// retries on another backend, half-close passed through, idle timeouts and per-backend stats.
#include <cstdio>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <zap/zell/runtime.hpp>

#include "command_line.hpp"
#include "counters.hpp"
#include "descriptor_limit.hpp"
#include "logging.hpp"
#include "proxy_server.hpp"
#include "proxy_settings.hpp"
#include "reload.hpp"
#include "runtime_config.hpp"
#include "serve_until_stopped.hpp"
#include "signals.hpp"

namespace {

using namespace zap;

constexpr const char* kFooter = R"(
zap-proxy needs backends: in a config (see configs/proxy.json for every key, and "pools" for
several pools) or with --backend (the default pool's).
Without --config it listens on 127.0.0.1:9000, one worker per CPU, round robin, health checks
every 2 s.

Signals: SIGTERM/SIGINT stop accepting and let relayed connections finish for
shutdown_grace_ms (a second signal closes them at once); SIGHUP re-reads --config and applies
log.level, max_connections, connect_timeout_ms, idle_timeout_ms, retries and the pools
(backends, balance, health checks, send_proxy, each listener's pool) without dropping a
connection: new clients go to the new pools, relayed ones finish where they are. It also
reopens the connection log (for logrotate).

Examples:
  zap-proxy --listen 0.0.0.0:80 --backend 10.0.0.2:8080 --backend 10.0.0.3:8080
  zap-proxy --config configs/proxy.json --check
  zap-proxy --config configs/proxy.json --admin 127.0.0.1:9903
  zap-proxy --backend 10.0.0.2:8080 --connection-log /var/log/zap/connections.log)";

int run(int argc, char** argv) {
  app::SignalWatcher::ignore_reload_until_blocked();
  CLI::App cli{"zap-proxy: TCP load-balancing proxy on the zap runtime"};
  cli.footer(kFooter);
  proxy::ProxyFlags flags;
  proxy::add_proxy_flags(cli, flags);
  CLI11_PARSE(cli, argc, argv);

  const proxy::ProxySettings settings = proxy::load_proxy_settings(flags);
  const zell::RuntimeConfig runtime_config =
      app::to_runtime_config(settings.daemon.runtime, "proxy");
  if (flags.common.check)
    return app::report_valid_config("zap-proxy", flags.common, settings.daemon);

  // Before any thread exists (spdlog's flusher is the first), so every thread inherits it; not
  // earlier, so that SIGTERM/SIGINT still end a start-up stuck reading its config.
  app::SignalWatcher::block_signals();
  app::setup_logging("zap-proxy", settings.daemon.log);
  zell::Runtime runtime(runtime_config);
  spdlog::info("zap-proxy {} starting: {}", ZAP_VERSION_STRING,
               app::describe_runtime(runtime_config, runtime.worker_count()));
  app::check_descriptor_limit(proxy::descriptor_need(settings));

  app::Counters counters(app::worker_placement(runtime, runtime_config), proxy::proxy_counters());
  proxy::ProxyServer server(settings, runtime.worker_count(), counters);
  proxy::Reloader reloader(flags, settings, server);
  return app::serve_until_stopped(server, {.program = "zap-proxy",
                                           .metrics_prefix = "zap_proxy",
                                           .daemon = settings.daemon,
                                           .port_file = flags.common.port_file,
                                           .runtime = runtime,
                                           .counters = counters,
                                           .reload = [&] { reloader.reload(); },
                                           .render_stats =
                                               [&] {
                                                 nlohmann::json stats =
                                                     nlohmann::json::parse(counters.render_json());
                                                 stats["backends"] = server.render_backends_json();
                                                 stats["pools"] = server.render_pools_json();
                                                 return stats.dump(2) + "\n";
                                               },
                                           .render_metrics =
                                               [&] {
                                                 return counters.render_prometheus("zap_proxy") +
                                                        server.render_backends_prometheus();
                                               }});
}

}  // namespace

int main(int argc, char** argv) {
  return zap::app::guarded_main("zap-proxy", [&] { return run(argc, argv); });
}
