// Reloader: what zap-proxy does on SIGHUP -- re-read the config file, apply what can change while
// running (log.level, max_connections, connect_timeout_ms, idle_timeout_ms, retries, and the
// pools: backends, balance, health checks, send_proxy, each listener's pool and sni_routes), log
// what it applied, and say which changed keys need a restart (listeners, buffer_size,
// max_buffer_size, accept, and the daemon's own). A config that fails to load changes nothing.
// Thread-safety: reload() from one thread at a time (the signal thread).
#pragma once

#include "proxy_server.hpp"
#include "proxy_settings.hpp"

namespace zap::proxy {

class Reloader {
 public:
  Reloader(const ProxyFlags& flags, ProxySettings running, ProxyServer& server)
      : flags_(flags), running_(std::move(running)), server_(server) {}
  void reload();

 private:
  const ProxyFlags& flags_;
  ProxySettings running_;
  ProxyServer& server_;
};

}  // namespace zap::proxy
