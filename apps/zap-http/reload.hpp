// Reloader: what zap-http does on SIGHUP -- re-read the config file, apply what can change while
// running (log.level, max_connections and the connection timeouts), reopen the access log (for
// logrotate), log what it applied, and say which changed keys need a restart. A config that
// fails to load changes nothing.
// Thread-safety: reload() from one thread at a time (the signal thread).
#pragma once

#include "http_server.hpp"
#include "http_settings.hpp"

namespace zap::http {

class Reloader {
 public:
  Reloader(const HttpFlags& flags, HttpSettings running, HttpServer& server)
      : flags_(flags), running_(std::move(running)), server_(server) {}
  void reload();

 private:
  const HttpFlags& flags_;
  HttpSettings running_;
  HttpServer& server_;
};

}  // namespace zap::http
