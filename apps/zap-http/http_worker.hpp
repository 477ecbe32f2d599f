// What zap-http's connections share: HttpShared across the whole server (limits that SIGHUP may
// change, the idle-connection registry, the virtual hosts), HttpWorker per worker (for each site
// a file cache and the site's rules over it, its Date header clock, a buffer per access log). A
// connection uses the HttpWorker of the worker it is pinned to, so nothing in it is locked.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "access_log.hpp"
#include "file_cache.hpp"
#include "http_date.hpp"
#include "http_settings.hpp"
#include "idle_connections.hpp"
#include "request_head.hpp"
#include "static_site.hpp"
#include "virtual_hosts.hpp"

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
  const VirtualHosts hosts;         // which of a worker's sites answers a Host
  const bool refuse_unknown_hosts;  // site 0 (the default site) answers nothing but errors
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

// One site as a worker serves it: a file cache over the site's root, and the site's rules.
struct WorkerSite {
  WorkerSite(int root_fd, const MimeTypes& types, const SiteSettings& site,
             FileCache::Options cache_options)
      : cache(root_fd, types, with_symlinks(cache_options, site.follow_symlinks)),
        rules(cache, SiteOptions{site.index_files, site.gzip_static, site.autoindex}),
        extra_headers(site.rendered_headers) {
    cache.follow_root(site.root);  // a deploy that swaps the root's symlink is seen
  }

  static FileCache::Options with_symlinks(FileCache::Options options, bool follow) {
    options.follow_symlinks = follow;
    return options;
  }

  FileCache cache;
  StaticSite rules;
  const std::string extra_headers;    // the site's "headers", rendered
  AccessLogBuffer* access = nullptr;  // the site's access log (the worker's buffer); null: none
};

struct HttpWorker {
  // `roots`: the default site's root, then each virtual host's (open O_PATH directories).
  // `site_logs`: for each site in the same order, its index in `logs`, or -1 for none.
  HttpWorker(std::size_t worker_index, const std::vector<int>& roots, const MimeTypes& types,
             const HttpSettings& settings, const std::vector<std::unique_ptr<app::LogFile>>& logs,
             const std::vector<int>& site_logs)
      : index(worker_index) {
    for (const auto& log : logs) access_logs.push_back(std::make_unique<AccessLogBuffer>(*log));
    sites.push_back(
        std::make_unique<WorkerSite>(roots[0], types, settings.site, settings.file_cache));
    for (std::size_t i = 0; i < settings.virtual_hosts.size(); ++i) {
      sites.push_back(std::make_unique<WorkerSite>(roots[i + 1], types, settings.virtual_hosts[i],
                                                   settings.file_cache));
    }
    for (std::size_t i = 0; i < sites.size(); ++i) {
      const int log = site_logs[i];
      sites[i]->access = log < 0 ? nullptr : access_logs[static_cast<std::size_t>(log)].get();
    }
  }

  std::uint64_t cache_hits() const {
    std::uint64_t n = 0;
    for (const auto& site : sites) n += site->cache.hits();
    return n;
  }
  std::uint64_t cache_misses() const {
    std::uint64_t n = 0;
    for (const auto& site : sites) n += site->cache.misses();
    return n;
  }

  const std::size_t index;
  std::vector<std::unique_ptr<WorkerSite>> sites;  // [0]: the default; [i + 1]: virtual_hosts[i]
  DateClock date;
  // One buffer per access log of the server (none: no site logs); the sites point into it.
  std::vector<std::unique_ptr<AccessLogBuffer>> access_logs;
};

}  // namespace zap::http
