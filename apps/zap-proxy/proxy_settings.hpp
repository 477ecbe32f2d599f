// ProxySettings: zap-proxy's config -- the shared daemon keys plus listeners, the backend pools
// (each with its balancing and health checks) and the connection limits.
//
//   {
//     "listeners": [{"host": "0.0.0.0", "port": 9000,
//                    "proxy_protocol": false,    // true: behind a proxy that sends PROXY v1/v2
//                    "pool": "default",          // or one of "pools"
//                    "sni_routes": [{"names": ["example.com", "*.example.com"],
//                                    "pool": "web"}]}],   // TLS passed through, by SNI
//     "backends": [{"host": "10.0.0.2", "port": 8080, "weight": 2},   // 0-256; 0: drained
//                  {"host": "10.0.0.3", "port": 8080, "backup": true}],  // the default pool: 1-64
//     "balance": "round_robin",       // or "least_connections", "source"
//     "queue_timeout_ms": 0,          // a client may wait this long when every backend is full
//     "health_check": {"enabled": true, "interval_ms": 2000, "timeout_ms": 1000,
//                      "rise": 2, "fall": 3},                     // TCP connect checks
//     "connect_timeout_ms": 3000,     // per attempt
//     "retries": 2,                   // further backends tried when a connect fails
//     "idle_timeout_ms": 300000,      // neither side sent anything for this long: closed
//     "max_connections": 10000,       // more are accepted, then closed at once (counted)
//     "buffer_size": 16384,           // per direction per connection, at first
//     "max_buffer_size": 65536,       // grown up to this while a stream fills the buffer
//     "pools": [{"name": "db", "backends": [...], "balance": ..., "health_check": {...},
//                "send_proxy": ...}],   // more pools; a listener picks one with "pool": "db"
//     "send_proxy": "off",            // "v1"/"v2": a PROXY protocol header tells each backend
//                                     // who the client is; also per backend
//     "accept": "per_worker",
//     "connection_log": "",           // a file: a line per client connection (HAProxy's tcplog)
//     "runtime": {...}, "log": {...}, "shutdown_grace_ms": 5000, "admin": {...}
//   }
//
// Every key is optional but "backends" when a listener uses the default pool. Reading throws
// ConfigError naming the JSON path of the first mistake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zap/zio/address.hpp>

#include "backend_pool.hpp"
#include "command_line.hpp"
#include "daemon_settings.hpp"
#include "descriptor_limit.hpp"
#include "stream_server.hpp"

namespace zap::proxy {

struct HealthCheckSettings {
  bool enabled = true;
  std::int64_t interval_ms = 2000;
  std::int64_t timeout_ms = 1000;
  std::int64_t rise = 2;
  std::int64_t fall = 3;

  friend bool operator==(const HealthCheckSettings&, const HealthCheckSettings&) = default;
};

// A pool of backends and how it is balanced and checked (HAProxy's "backend" section). The top
// level of the config describes the pool named "default"; "pools" adds others, and each
// listener says which one its clients go to.
struct PoolSettings {
  std::string name = "default";
  std::vector<BackendSettings> backends;  // 1-64 (the default pool: 0 if no listener uses it)
  Balance balance = Balance::kRoundRobin;
  HealthCheckSettings health_check;
  // "send_proxy" at the pool's level: every backend's unless it sets its own; --backend's too.
  app::ProxyProtocol send_proxy = app::ProxyProtocol::kOff;
  // How long a client may wait for room when every backend is at its max_connections (HAProxy's
  // "timeout queue"); 0: it is closed at once.
  std::int64_t queue_timeout_ms = 0;
  // How many clients may wait at once (HAProxy's maxqueue); more are closed at once. 0: no bound
  // but max_connections.
  std::int64_t max_queue = 0;
  // A waiting client that closes its side (FIN) leaves the queue (HAProxy's "option
  // abortonclose"). Off, it keeps its place: a client may half-close after its request and
  // still want the answer. One that resets leaves either way.
  bool abort_on_close = false;

  friend bool operator==(const PoolSettings&, const PoolSettings&) = default;
};

inline constexpr std::size_t kMaxPools = 64;  // named pools, besides "default"

// A listener's route by TLS server name (HAProxy's use_backend ... if { req.ssl_sni ... }): a
// client whose ClientHello names one of `names` goes to pools[pool].
struct SniRoute {
  std::vector<std::string> names;  // lowercase; "example.com" or "*.example.com"
  std::size_t pool = 0;
  friend bool operator==(const SniRoute&, const SniRoute&) = default;
};
inline constexpr std::size_t kMaxSniNames = 256;  // per listener, over all its routes

// The settings SIGHUP may change while running.
struct ProxyLimits {
  std::int64_t max_connections = 10000;
  std::int64_t connect_timeout_ms = 3000;
  std::int64_t idle_timeout_ms = 300000;
  std::int64_t retries = 2;
};

struct ProxySettings {
  app::DaemonSettings daemon;
  std::vector<zio::SocketAddress> listeners;
  // proxy_protocol[i]: connections to listeners[i] start with a PROXY protocol header, whose
  // client stands for the connection's peer (for "source" balancing and send_proxy).
  std::vector<bool> proxy_protocol;
  // listener_pool[i]: the index in `pools` of the pool listeners[i] relays to.
  std::vector<std::size_t> listener_pool;
  // sni_routes[i]: listeners[i]'s routes by TLS server name; the pool above takes the rest.
  std::vector<std::vector<SniRoute>> sni_routes;
  std::vector<PoolSettings> pools = {PoolSettings{}};  // [0]: "default", then "pools" in order
  ProxyLimits limits;
  std::int64_t buffer_size = 16384;
  std::int64_t max_buffer_size = 65536;  // <= buffer_size: a fixed buffer
  app::AcceptMode accept_mode = app::AcceptMode::kPerWorker;
  // A line per client connection when it ends (connection_log.hpp); "": none. Relative to the
  // config file's directory.
  std::string connection_log;
};

const char* to_string(Balance balance);

// zap-proxy's command line: the common flags plus overrides of its own keys.
struct ProxyFlags {
  app::CommonFlags common;
  std::vector<std::string> listen;   // replaces "listeners"
  std::vector<std::string> backend;  // replaces "backends" (weight 1 each)
  std::string balance;
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> idle_timeout_ms;
  bool no_health_check = false;
  std::string accept;
  std::string send_proxy;      // every backend's PROXY protocol header: off, v1, v2
  std::string connection_log;  // replaces "connection_log"; "off": none
};

void add_proxy_flags(CLI::App& app, ProxyFlags& flags);

// Reads flags.common.config (there is no useful built-in config: without one, --backend is
// required) and applies the flags on top.
ProxySettings load_proxy_settings(const ProxyFlags& flags);

// The descriptors these settings need: two sockets per connection (client and backend).
app::DescriptorNeed descriptor_need(const ProxySettings& settings);

}  // namespace zap::proxy
