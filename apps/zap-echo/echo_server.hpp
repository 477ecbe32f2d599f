// EchoServer: zap-echo's listeners, acceptors and connections on a zell Runtime.
//
//   EchoServer server(settings, runtime.worker_count(), counters);   // binds now (may throw)
//   write_port_file(path, server.bound_addresses());
//   server.start(runtime);
//   ... SIGTERM ...
//   server.stop_accepting();                 // acceptors cancelled, listeners closed
//   bool clean = server.drain(grace);        // open connections finish, up to `grace`
//   runtime.shutdown();                      // whatever is left is closed with its task
//
// Accept modes: per_worker gives every worker its own SO_REUSEPORT listener per TCP address and
// an acceptor pinned to it (spawn_on_worker); the kernel spreads connections over them and each
// connection stays on its acceptor's worker. shared has one listener and one acceptor, which
// deals connections round-robin over the workers. Connections never migrate: a socket is used
// and closed through one worker's IO loop.
// Thread-safety: construct, start, stop_accepting, drain from the main thread; hurry() and
// set_limits() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <zap/zell/join_handle.hpp>
#include <zap/zell/runtime.hpp>
#include <zap/zio/fd.hpp>

#include "connection_gate.hpp"
#include "counters.hpp"
#include "echo_settings.hpp"

namespace zap::echo {

class EchoServer {
 public:
  EchoServer(const EchoSettings& settings, std::size_t workers, app::Counters& counters);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  // "127.0.0.1:41234" for each configured listener, in config order (port 0 resolved).
  std::vector<std::string> bound_addresses() const;

  void start(zell::Runtime& runtime);
  void stop_accepting();
  // Waits up to `grace` for the open connections to end; true if they all did.
  bool drain(std::chrono::milliseconds grace);
  // Cuts a drain() short (a second stop signal).
  void hurry() noexcept { gate_.end_wait(); }
  void set_limits(const EchoLimits& limits) noexcept;
  std::int64_t open_connections() const noexcept { return gate_.open(); }

 private:
  struct Listener {
    bool udp = false;
    std::vector<zio::UniqueFd> sockets;  // one per worker (per_worker), else one
    std::string bound;
  };

  zell::Task<void> accept_loop(int listen_fd, std::size_t pinned_worker, bool pinned);
  AcceptMode mode_;
  std::size_t workers_;
  std::atomic<std::size_t> next_worker_{0};  // shared mode: round-robin (relaxed: a hint)
  std::size_t buffer_size_;
  std::atomic<std::int64_t> idle_timeout_ms_;
  app::Counters& counters_;
  ConnectionGate gate_;
  std::vector<Listener> listeners_;
  std::vector<zell::JoinHandle<void>> tasks_;  // acceptors and UDP loops
};

}  // namespace zap::echo
