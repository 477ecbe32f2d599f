// EchoSettings: zap-echo's config -- the shared daemon keys plus listeners and connection limits.
//
//   {
//     "listeners": [{"host": "127.0.0.1", "port": 7000},              // TCP echo
//                   {"host": "::1", "port": 7001, "protocol": "udp"}], // UDP echo
//     "accept": "per_worker",        // per_worker: a SO_REUSEPORT listener per worker (shard per
//                                    // core, connections never migrate); shared: one acceptor
//                                    // dealing connections round-robin over the workers
//     "max_connections": 10000,      // more are accepted, then closed at once (and counted)
//     "idle_timeout_ms": 60000,      // a connection silent this long is closed; 0: never
//     "buffer_size": 16384,          // bytes per connection at first
//     "max_buffer_size": 65536,      // grown up to this while a stream fills the buffer
//     "runtime": {...}, "log": {...}, "shutdown_grace_ms": 5000, "admin": {...}
//   }
//
// Every key is optional; without --config the embedded kDefaultEchoConfig is used. Reading
// throws ConfigError naming the JSON path of the first mistake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zap/zio/address.hpp>

#include "command_line.hpp"
#include "daemon_settings.hpp"
#include "descriptor_limit.hpp"
#include "stream_server.hpp"

namespace zap::echo {

inline constexpr const char* kDefaultEchoConfig =
    R"({"listeners": [{"host": "127.0.0.1", "port": 7000}]})";

struct ListenerSettings {
  zio::SocketAddress address;
  bool udp = false;
};

// The settings SIGHUP may change while running.
struct EchoLimits {
  std::int64_t max_connections = 10000;
  std::int64_t idle_timeout_ms = 60000;
};

struct EchoSettings {
  app::DaemonSettings daemon;
  std::vector<ListenerSettings> listeners;
  app::AcceptMode accept_mode = app::AcceptMode::kPerWorker;
  EchoLimits limits;
  std::int64_t buffer_size = 16384;
  // The buffer grows up to this while a stream keeps filling it (app::AdaptiveBuffer); at or
  // below buffer_size it stays fixed.
  std::int64_t max_buffer_size = 65536;
};

// zap-echo's command line: the common flags plus overrides of its own keys.
struct EchoFlags {
  app::CommonFlags common;
  std::vector<std::string> listen;  // replaces "listeners" with TCP listeners
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> idle_timeout_ms;
  std::optional<std::int64_t> buffer_size;
  std::optional<std::int64_t> max_buffer_size;
  std::string accept;
};

void add_echo_flags(CLI::App& app, EchoFlags& flags);

// Reads flags.common.config (or the embedded default when empty) and applies the flags on top.
EchoSettings load_echo_settings(const EchoFlags& flags);

// The descriptors these settings need: a socket per connection, and some to spare.
app::DescriptorNeed descriptor_need(const EchoSettings& settings);

}  // namespace zap::echo
