// What zap-http's connections share: HttpShared across the whole server (limits that SIGHUP may
// change, the idle-connection registry), HttpWorker per worker (its file cache, the site rules
// over it, its Date header clock, its access log buffer). A connection uses the HttpWorker of the
// worker it is pinned to, so nothing in it is locked.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string_view>

#include "access_log.hpp"
#include "file_cache.hpp"
#include "http_date.hpp"
#include "http_settings.hpp"
#include "idle_connections.hpp"
#include "request_head.hpp"
#include "static_site.hpp"

namespace zap::http {

// zap-http's extra counters (app::WorkerCounters::extra), in this order.
enum HttpCounter : std::size_t {
  kResponses1xx2xx,
  kResponses3xx,
  kResponses4xx,
  kResponses5xx,
  kFileCacheHits,
  kFileCacheMisses,
};
std::vector<app::ExtraCounter> http_counters();

struct HttpShared {
  explicit HttpShared(const HttpSettings& settings, std::size_t workers);
  void set_limits(const HttpLimits& limits) noexcept;

  IdleConnections idle;
  // Live values (SIGHUP); relaxed: each is read once per use and nothing is ordered by them.
  std::atomic<std::int64_t> keepalive_timeout_ms;
  std::atomic<std::int64_t> request_timeout_ms;
  std::atomic<std::int64_t> send_timeout_ms;
  std::atomic<std::int64_t> max_requests_per_connection;
  const ParseLimits parse_limits;
  const std::uint64_t max_request_body;
  const std::string extra_headers;  // the config's "headers", rendered
};

// The Date header's text for the current second, formatted once per second per worker.
class DateClock {
 public:
  std::string_view now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);  // vDSO, no syscall; a second's precision
    if (ts.tv_sec != second_) {
      second_ = ts.tv_sec;
      format_http_date(second_, text_);
    }
    return {text_, kHttpDateSize};
  }

 private:
  std::int64_t second_ = -1;
  char text_[kHttpDateSize] = {};
};

struct HttpWorker {
  // `access_log` may be null (no access log).
  HttpWorker(std::size_t worker_index, int root_fd, const MimeTypes& types,
             const HttpSettings& settings, AccessLog* access_log)
      : index(worker_index),
        cache(root_fd, types, settings.file_cache),
        site(cache, SiteOptions{settings.index_files, settings.gzip_static, settings.autoindex}),
        access(access_log != nullptr ? std::make_unique<AccessLog::Buffer>(*access_log) : nullptr) {
  }

  const std::size_t index;
  FileCache cache;
  StaticSite site;
  DateClock date;
  std::unique_ptr<AccessLog::Buffer> access;  // null: no access log
};

}  // namespace zap::http
