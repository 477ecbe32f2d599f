#include "reload.hpp"

#include <spdlog/spdlog.h>

#include "logging.hpp"
#include "reload_report.hpp"

namespace zap::http {

void Reloader::reload() {
  // First, whatever the config says: logrotate moved the file and sent SIGHUP.
  if (const std::string error = server_.reopen_access_logs(); !error.empty()) {
    app::log_reload_error("cannot reopen " + error + "; still writing to what was open");
  }
  if (flags_.common.config.empty()) return app::log_nothing_to_reload();
  HttpSettings fresh;
  try {
    fresh = load_http_settings(flags_);
    app::check_as_startup_would(fresh.daemon, "http");
  } catch (const std::exception& e) {
    app::log_reload_error(std::string(e.what()) + "; keeping the running config");
    return;
  }
  const HttpLimits& was = running_.limits;
  const HttpLimits& now = fresh.limits;
  app::ReloadReport report;
  report.compare_daemon(running_.daemon, fresh.daemon);
  report.applied("max_connections", was.max_connections, now.max_connections);
  report.applied("keepalive_timeout_ms", was.keepalive_timeout_ms, now.keepalive_timeout_ms);
  report.applied("request_timeout_ms", was.request_timeout_ms, now.request_timeout_ms);
  report.applied("send_timeout_ms", was.send_timeout_ms, now.send_timeout_ms);
  report.applied("max_requests_per_connection", was.max_requests_per_connection,
                 now.max_requests_per_connection);
  report.restart_if(
      fresh.listeners != running_.listeners || fresh.proxy_protocol != running_.proxy_protocol,
      "listeners");
  report.restart_if(fresh.accept_mode != running_.accept_mode, "accept");
  report.restart_if(fresh.site != running_.site || fresh.virtual_hosts != running_.virtual_hosts ||
                        fresh.refuse_unknown_hosts != running_.refuse_unknown_hosts,
                    "root/index/follow_symlinks/headers/gzip_static/autoindex/virtual_hosts"
                    "/virtual_hosts[].access_log/unknown_hosts");
  report.restart_if(
      fresh.mime_types != running_.mime_types || fresh.default_type != running_.default_type,
      "mime_types/default_type");
  report.restart_if(fresh.max_request_head != running_.max_request_head ||
                        fresh.max_request_body != running_.max_request_body,
                    "max_request_head/max_request_body");
  const FileCache::Options& a = running_.file_cache;
  const FileCache::Options& b = fresh.file_cache;
  report.restart_if(a.max_entries != b.max_entries || a.max_bytes != b.max_bytes ||
                        a.max_file_in_memory != b.max_file_in_memory ||
                        a.validity_ms != b.validity_ms,
                    "file_cache");

  report.restart_if(fresh.access_log != running_.access_log, "access_log");

  const bool more_connections = now.max_connections > was.max_connections;
  app::set_log_level(fresh.daemon.log.level);
  server_.set_limits(fresh.limits);
  running_.daemon.log.level = fresh.daemon.log.level;
  running_.limits = fresh.limits;
  report.log();
  // The running file cache's size (a file_cache change waits for a restart) with the new limit.
  if (more_connections) app::check_descriptor_limit(descriptor_need(running_));
}

}  // namespace zap::http
