// AdminServer: the optional admin listener of a daemon -- a minimal HTTP/1.1 server on zell
// answering GET /stats (JSON counters, with each worker's CPU and NUMA node when the Counters know
// them) and GET /metrics (Prometheus text), 404 otherwise.
//
//   AdminServer admin(address, {.stats = [&] { return counters.render_json(); },
//                               .metrics = [&] { return counters.render_prometheus("zap_echo");
//                               }});
//   admin.start(runtime);          // accept loop on the runtime
//   ...
//   admin.stop();                  // from main, before runtime.shutdown()
//
// One request per connection (answered with "Connection: close"). A request head must arrive
// within 5 s and fit in 8 KiB; malformed input gets a 400 and the connection is closed, so a
// misbehaving client costs one short task and never disturbs the daemon. At most
// kMaxAdminConnections are answered at once; as many more get 503 (Retry-After: 1) at once, and
// past that they are closed at once, so idle admin clients cannot take the descriptors the
// daemon's listeners need.
// Thread-safety: construct, start and stop from one (non-worker) thread; the renderers run on
// workers and must be thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <zap/zell/join_handle.hpp>
#include <zap/zell/runtime.hpp>
#include <zap/zio/address.hpp>
#include <zap/zio/fd.hpp>

namespace zap::app {

inline constexpr int kMaxAdminConnections = 16;

class AdminServer {
 public:
  struct Renderers {
    std::function<std::string()> stats;    // body of /stats (application/json)
    std::function<std::string()> metrics;  // body of /metrics (Prometheus text format 0.0.4)
  };

  // Binds and listens now (start-up: throws on failure).
  AdminServer(const zio::SocketAddress& address, Renderers renderers);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  const zio::SocketAddress& bound() const { return bound_; }
  void start(zell::Runtime& runtime);
  // Stops accepting; connections being answered finish on their own (or die with the runtime).
  void stop();

 private:
  zell::Task<void> accept_loop();
  zell::Task<void> serve(zio::UniqueFd connection);
  zell::Task<void> answer(int fd);
  zell::Task<void> refuse(zio::UniqueFd connection);  // 503, over kMaxAdminConnections

  zio::UniqueFd listener_;
  zio::SocketAddress bound_;
  Renderers renderers_;
  zell::JoinHandle<void> acceptor_;
  std::atomic<int> open_{0};      // connections being answered (serve() on any worker)
  std::atomic<int> refusing_{0};  // connections being refused (refuse() on any worker)
};

}  // namespace zap::app
