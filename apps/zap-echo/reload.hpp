// Reloader: what zap-echo does on SIGHUP -- re-read the config file, apply what can change while
// running (log.level, max_connections, idle_timeout_ms), log what it applied, and say which
// changed keys need a restart. A config that fails to load changes nothing.
// Thread-safety: reload() from one thread at a time (the signal thread).
#pragma once

#include "echo_server.hpp"
#include "echo_settings.hpp"

namespace zap::echo {

class Reloader {
 public:
  Reloader(const EchoFlags& flags, EchoSettings running, EchoServer& server)
      : flags_(flags), running_(std::move(running)), server_(server) {}
  void reload();

 private:
  const EchoFlags& flags_;
  EchoSettings running_;
  EchoServer& server_;
};

}  // namespace zap::echo
