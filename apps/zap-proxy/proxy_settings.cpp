#include "proxy_settings.hpp"

#include <algorithm>

#include "address_setting.hpp"
#include "config_reader.hpp"
#include "log_file.hpp"
#include "server_names.hpp"

namespace zap::proxy {

namespace {

const std::vector<std::string>& balance_names() {
  static const std::vector<std::string> names = {"round_robin", "least_connections", "source"};
  return names;
}

// "send_proxy": "off" | "v1" | "v2", at the top (every backend's default) or on one backend.
app::ProxyProtocol read_send_proxy(app::JsonReader& reader, app::ProxyProtocol fallback) {
  app::ProxyProtocol version = fallback;
  (void)app::parse_proxy_protocol(
      reader.choice("send_proxy", {"off", "v1", "v2"}, to_string(fallback)), version);
  return version;
}

Balance parse_balance(const std::string& text) {
  if (text == "least_connections") return Balance::kLeastConnections;
  if (text == "source") return Balance::kSource;
  return Balance::kRoundRobin;
}

// The keys of a pool, at `reader` (the top level for "default", or an element of "pools").
void read_pool(app::JsonReader& reader, PoolSettings& pool) {
  pool.send_proxy = read_send_proxy(reader, pool.send_proxy);
  for (app::JsonReader& entry : reader.array("backends")) {
    BackendSettings backend;
    backend.address = app::read_host_port(entry);
    if (backend.address.port() == 0) entry.fail("port", "expected integer 1-65535, got 0");
    // One entry per backend: a second would split its state (a weight says "more of it").
    for (const BackendSettings& earlier : pool.backends) {
      if (earlier.address == backend.address) {
        entry.fail("port", backend.address.to_string() + " is listed twice (use \"weight\")");
      }
    }
    backend.weight = entry.integer("weight", 0, 256, backend.weight);
    backend.backup = entry.boolean("backup", false);
    backend.max_connections = entry.integer("max_connections", 0, 10'000'000, 0);
    backend.send_proxy = read_send_proxy(entry, pool.send_proxy);
    entry.finish();
    pool.backends.push_back(backend);
  }
  if (pool.backends.size() > kMaxBackends) {
    reader.fail("backends", "at most " + std::to_string(kMaxBackends) + " backends");
  }
  pool.balance = parse_balance(reader.choice("balance", balance_names(), to_string(pool.balance)));
  pool.queue_timeout_ms = reader.integer("queue_timeout_ms", 0, 3'600'000, pool.queue_timeout_ms);
  pool.max_queue = reader.integer("max_queue", 0, 10'000'000, pool.max_queue);
  pool.abort_on_close = reader.boolean("abort_on_close", pool.abort_on_close);
  if (auto check = reader.object("health_check")) {
    auto& h = pool.health_check;
    h.enabled = check->boolean("enabled", h.enabled);
    h.interval_ms = check->integer("interval_ms", 10, 3'600'000, h.interval_ms);
    h.timeout_ms = check->integer("timeout_ms", 1, 3'600'000, h.timeout_ms);
    h.rise = check->integer("rise", 1, 100, h.rise);
    h.fall = check->integer("fall", 1, 100, h.fall);
    check->finish();
  }
}

// A pool's name: 1-64 of [a-z0-9_-], unique, and not "default" (the top level's).
void check_pool_name(app::JsonReader& reader, const std::string& name,
                     const std::vector<PoolSettings>& pools) {
  const bool valid =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
  if (!valid) reader.fail("name", "expected 1-64 of a-z 0-9 _ -, got \"" + name + "\"");
  for (const PoolSettings& other : pools) {
    if (other.name == name) reader.fail("name", "\"" + name + "\" is taken");
  }
}

// The index in `pools` of the pool named by `reader`'s "pool" (default: `fallback`).
std::size_t pool_index(app::JsonReader& reader, const std::string& fallback,
                       const std::vector<PoolSettings>& pools) {
  const std::string name = reader.string("pool", fallback);
  const auto named = std::find_if(pools.begin(), pools.end(),
                                  [&](const PoolSettings& p) { return p.name == name; });
  if (named == pools.end()) reader.fail("pool", "no pool named \"" + name + "\"");
  return static_cast<std::size_t>(named - pools.begin());
}

std::vector<SniRoute> read_sni_routes(app::JsonReader& listener,
                                      const std::vector<PoolSettings>& pools) {
  std::vector<SniRoute> routes;
  std::vector<std::string> seen;
  for (app::JsonReader& reader : listener.array("sni_routes")) {
    SniRoute& route = routes.emplace_back();
    route.names = app::read_server_names(reader, "server name");
    for (std::size_t i = 0; i < route.names.size(); ++i) {
      const std::string& name = route.names[i];
      const std::string key = "names[" + std::to_string(i) + "]";
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        reader.fail(key, "\"" + name + "\" is routed twice");
      }
      if (seen.size() == kMaxSniNames) {
        reader.fail(key, "at most " + std::to_string(kMaxSniNames) + " names per listener");
      }
      seen.push_back(name);
    }
    if (!reader.has("pool")) reader.fail("pool", "required: the pool these names go to");
    route.pool = pool_index(reader, "default", pools);
    reader.finish();
  }
  return routes;
}

ProxySettings read_proxy_settings(const nlohmann::json& json, const std::string& config_dir) {
  app::JsonReader root(json, "");
  ProxySettings settings;
  settings.daemon = app::read_daemon_settings(root, config_dir);
  read_pool(root, settings.pools[0]);
  for (app::JsonReader& reader : root.array("pools")) {
    if (settings.pools.size() == 1 + kMaxPools) {  // (pools[0] is "default")
      root.fail("pools", "at most " + std::to_string(kMaxPools) + " pools");
    }
    PoolSettings pool;
    pool.name = reader.required_string("name");
    check_pool_name(reader, pool.name, settings.pools);
    read_pool(reader, pool);
    if (pool.backends.empty()) reader.fail("backends", "expected at least one backend");
    reader.finish();
    settings.pools.push_back(std::move(pool));
  }
  for (app::JsonReader& reader : root.array("listeners")) {
    const zio::SocketAddress address = app::read_host_port(reader);
    app::refuse_repeated_listener(reader, address, settings.listeners);
    settings.listeners.push_back(address);
    settings.proxy_protocol.push_back(reader.boolean("proxy_protocol", false));
    settings.listener_pool.push_back(pool_index(reader, "default", settings.pools));
    settings.sni_routes.push_back(read_sni_routes(reader, settings.pools));
    reader.finish();
  }
  if (root.has("listeners") && settings.listeners.empty()) {
    root.fail("listeners", "expected at least one listener");
  }
  auto& limits = settings.limits;
  limits.max_connections = root.integer("max_connections", 1, 10'000'000, limits.max_connections);
  limits.connect_timeout_ms =
      root.integer("connect_timeout_ms", 1, 3'600'000, limits.connect_timeout_ms);
  limits.idle_timeout_ms = root.integer("idle_timeout_ms", 0, 86'400'000, limits.idle_timeout_ms);
  limits.retries = root.integer("retries", 0, 63, limits.retries);
  settings.buffer_size = root.integer("buffer_size", 1024, 16 << 20, settings.buffer_size);
  settings.max_buffer_size =
      root.integer("max_buffer_size", 1024, 16 << 20, settings.max_buffer_size);
  settings.accept_mode = app::read_accept_mode(root);
  settings.connection_log = app::resolve_config_path(config_dir, root.string("connection_log", ""));
  root.finish();
  return settings;
}

}  // namespace

const char* to_string(Balance balance) {
  switch (balance) {
    case Balance::kRoundRobin:
      return "round_robin";
    case Balance::kLeastConnections:
      return "least_connections";
    case Balance::kSource:
      return "source";
  }
  return "?";
}

void add_proxy_flags(CLI::App& app, ProxyFlags& flags) {
  app::add_common_flags(app, flags.common, "zap-proxy");
  app.add_option(
      "-l,--listen", flags.listen,
      "Address ip:port to accept on (repeatable); replaces the config's listeners (and their "
      "proxy_protocol and pool: these relay to the default pool)");
  app.add_option("-b,--backend", flags.backend,
                 "Backend ip:port (repeatable, weight 1); replaces the default pool's backends");
  app.add_option("--balance", flags.balance, "Override the default pool's balance")
      ->check(CLI::IsMember(balance_names()));
  app.add_option("--max-connections", flags.max_connections, "Override max_connections")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--idle-timeout-ms", flags.idle_timeout_ms, "Override idle_timeout_ms (0: none)")
      ->check(CLI::Range(0, 86'400'000));
  app.add_flag("--no-health-check", flags.no_health_check,
               "Disable the health checks of every pool");
  app.add_option("--accept", flags.accept, "Override accept: per_worker or shared")
      ->check(CLI::IsMember({"per_worker", "shared"}));
  app.add_option("--send-proxy", flags.send_proxy,
                 "PROXY protocol header to every backend of every pool: off, v1 or v2")
      ->check(CLI::IsMember({"off", "v1", "v2"}));
  app.add_option("--connection-log", flags.connection_log,
                 "Override connection_log (file of a line per client connection; off: none)");
}

ProxySettings load_proxy_settings(const ProxyFlags& flags) {
  const std::string& path = flags.common.config;
  ProxySettings settings = read_proxy_settings(
      path.empty() ? app::parse_json_text("{}", "<built-in config>") : app::load_json_file(path),
      app::config_folder(path));
  app::apply_overrides(flags.common, settings.daemon);
  PoolSettings& fallback = settings.pools[0];  // "default"
  if (!flags.listen.empty()) {                 // to the default pool, without a PROXY header
    settings.listeners.clear();
    settings.proxy_protocol.clear();
    settings.listener_pool.clear();
    settings.sni_routes.clear();
    for (const zio::SocketAddress& address : app::parse_listen_flags(flags.listen)) {
      settings.listeners.push_back(address);
      settings.proxy_protocol.push_back(false);
      settings.listener_pool.push_back(0);
      settings.sni_routes.emplace_back();
    }
  }
  if (!flags.backend.empty()) {
    fallback.backends.clear();
    for (const auto& text : flags.backend) {
      BackendSettings backend;
      backend.address = app::parse_address_setting(text, "--backend");
      backend.send_proxy = fallback.send_proxy;
      if (backend.address.port() == 0) {
        throw app::ConfigError("--backend: expected a port 1-65535, got \"" + text + "\"");
      }
      for (const BackendSettings& earlier : fallback.backends) {
        if (earlier.address == backend.address) {
          throw app::ConfigError("--backend: " + text + " is given twice");
        }
      }
      fallback.backends.push_back(backend);
    }
    if (fallback.backends.size() > kMaxBackends) {
      throw app::ConfigError("--backend: at most " + std::to_string(kMaxBackends) + " backends");
    }
  }
  if (!flags.balance.empty()) fallback.balance = parse_balance(flags.balance);
  if (flags.max_connections) settings.limits.max_connections = *flags.max_connections;
  if (flags.idle_timeout_ms) settings.limits.idle_timeout_ms = *flags.idle_timeout_ms;
  for (PoolSettings& pool : settings.pools) {
    if (flags.no_health_check) pool.health_check.enabled = false;
    if (!flags.send_proxy.empty()) {
      (void)app::parse_proxy_protocol(flags.send_proxy, pool.send_proxy);  // CLI11 checked it
      for (BackendSettings& backend : pool.backends) backend.send_proxy = pool.send_proxy;
    }
  }
  if (!flags.accept.empty()) settings.accept_mode = app::parse_accept_mode(flags.accept);
  if (flags.connection_log == "off") {
    settings.connection_log.clear();
  } else if (!flags.connection_log.empty()) {
    settings.connection_log = flags.connection_log;
  }
  if (settings.listeners.empty()) {
    settings.listeners.push_back(app::parse_address_setting("127.0.0.1:9000", "listeners"));
    settings.proxy_protocol.push_back(false);
    settings.listener_pool.push_back(0);
    settings.sni_routes.emplace_back();
  }
  bool default_used = std::find(settings.listener_pool.begin(), settings.listener_pool.end(),
                                std::size_t{0}) != settings.listener_pool.end();
  for (const std::vector<SniRoute>& routes : settings.sni_routes) {
    for (const SniRoute& route : routes) default_used = default_used || route.pool == 0;
  }
  if (default_used && fallback.backends.empty()) {
    throw app::ConfigError(
        "backends: at least one backend is required (in the config, or --backend ip:port), for "
        "the default pool that a listener uses");
  }
  if (!default_used && (!flags.backend.empty() || !flags.balance.empty())) {
    throw app::ConfigError("--backend and --balance set the default pool, which no listener uses");
  }
  app::refuse_admin_on_a_listener(settings.daemon.admin_listen, settings.listeners);
  // Like nginx -t: the log file is opened now.
  if (!settings.connection_log.empty())
    app::LogFile probe(settings.connection_log, "connection_log");
  return settings;
}

app::DescriptorNeed descriptor_need(const ProxySettings& settings) {
  const std::int64_t max_connections = settings.limits.max_connections;
  return {2 * static_cast<std::uint64_t>(max_connections) + 64,
          "max_connections " + std::to_string(max_connections) + " (two sockets each)"};
}

}  // namespace zap::proxy
