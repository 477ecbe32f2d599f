// HttpServer: zap-http's document root, listeners, per-worker state and connections on a zell
// Runtime.
//
//   HttpServer server(settings, runtime.worker_count(), counters);   // opens root, binds (throws)
//   write_port_file(path, server.bound_addresses());
//   server.start(runtime);
//   ... SIGTERM ...
//   server.stop_accepting();                 // acceptors cancelled, listeners closed
//   bool clean = server.drain(grace);        // idle keep-alive connections close now; busy
//                                            // ones after their response ("Connection: close")
//   runtime.shutdown();
//
// Each worker has its own file cache and site (HttpWorker); connections are pinned to the worker
// that accepted them (see app::StreamServer). Over max_connections a client gets a 503 with
// Retry-After and a lingering close.
// Thread-safety: construct, start, stop_accepting, drain from the main thread; hurry() and
// set_limits() from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <zap/zell/runtime.hpp>
#include <zap/zio/fd.hpp>

#include "access_log.hpp"
#include "counters.hpp"
#include "http_settings.hpp"
#include "http_worker.hpp"
#include "mime_types.hpp"
#include "stream_server.hpp"

namespace zap::http {

class HttpServer {
 public:
  HttpServer(const HttpSettings& settings, std::size_t workers, app::Counters& counters);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::vector<std::string> bound_addresses() const { return tcp_.bound_addresses(); }

  void start(zell::Runtime& runtime);
  void stop_accepting() { tcp_.stop_accepting(); }
  bool drain(std::chrono::milliseconds grace);
  void hurry() noexcept { tcp_.hurry(); }
  void set_limits(const HttpLimits& limits) noexcept;
  // Reopens every access log (after logrotate moved them); "" if done or there are none, else
  // which could not be reopened and why.
  std::string reopen_access_logs();
  std::int64_t open_connections() const noexcept { return tcp_.open_connections(); }

 private:
  std::vector<zio::UniqueFd> roots_;  // the default site's, then each virtual host's
  MimeTypes types_;
  // One per distinct path among the top level's and the virtual hosts' "access_log".
  std::vector<std::unique_ptr<app::LogFile>> access_logs_;
  HttpShared shared_;
  std::vector<std::unique_ptr<HttpWorker>> workers_;
  app::StreamServer tcp_;
  std::vector<zell::JoinHandle<void>> flushers_;
  std::vector<bool> proxy_protocol_;  // by listener: connections start with a PROXY header
};

}  // namespace zap::http
