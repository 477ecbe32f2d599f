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
// TCP listeners are an app::StreamServer (accept modes, limits, draining: see stream_server.hpp);
// UDP listeners get one echo loop per socket, pinned to a worker in per_worker mode.
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

#include "counters.hpp"
#include "echo_settings.hpp"
#include "stream_server.hpp"

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
  bool drain(std::chrono::milliseconds grace) { return tcp_.drain(grace); }
  // Cuts a drain() short (a second stop signal).
  void hurry() noexcept { tcp_.hurry(); }
  void set_limits(const EchoLimits& limits) noexcept;
  std::int64_t open_connections() const noexcept { return tcp_.open_connections(); }

 private:
  struct UdpListener {
    std::vector<zio::UniqueFd> sockets;  // one per worker (per_worker), else one
    std::string bound;
  };

  std::vector<bool> udp_;  // per configured listener: UDP (else TCP)
  std::size_t buffer_size_;
  std::size_t max_buffer_size_;
  std::atomic<std::int64_t> idle_timeout_ms_;
  app::Counters& counters_;
  app::StreamServer tcp_;
  std::vector<UdpListener> udp_listeners_;
  std::vector<zell::JoinHandle<void>> udp_tasks_;
};

}  // namespace zap::echo
