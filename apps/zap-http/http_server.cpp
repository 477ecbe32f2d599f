#include "http_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "http_connection.hpp"
#include "lingering_close.hpp"

namespace zap::http {

namespace {

zio::UniqueFd open_root(const std::string& root) {
  zio::UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw std::runtime_error("cannot open root \"" + root + "\": " + std::strerror(errno));
  return fd;
}

// Over max_connections: a short 503 sent straight away (it fits any empty socket buffer), then
// a lingering close, so the client reads it rather than a reset.
zell::Task<void> refuse(zio::UniqueFd socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nServer: zap-http\r\nContent-Type: text/plain\r\n"
      "Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nserver at capacity.\n";
  (void)::send(socket.get(), kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  co_await app::lingering_close(std::move(socket));
}

}  // namespace

std::vector<app::ExtraCounter> http_counters() {
  return {{"responses_2xx", "Responses with a 1xx or 2xx status", false},
          {"responses_3xx", "Responses with a 3xx status (redirects, not modified)", false},
          {"responses_4xx", "Responses with a 4xx status", false},
          {"responses_5xx", "Responses with a 5xx status", false},
          {"file_cache_hits", "Requests answered from the file cache", false},
          {"file_cache_misses", "Requests that opened a file", false}};
}

HttpShared::HttpShared(const HttpSettings& settings, std::size_t workers)
    : idle(workers),
      keepalive_timeout_ms(settings.limits.keepalive_timeout_ms),
      request_timeout_ms(settings.limits.request_timeout_ms),
      send_timeout_ms(settings.limits.send_timeout_ms),
      max_requests_per_connection(settings.limits.max_requests_per_connection),
      parse_limits{static_cast<std::size_t>(settings.max_request_head), 100},
      max_request_body(static_cast<std::uint64_t>(settings.max_request_body)),
      hosts(settings.virtual_hosts),
      refuse_unknown_hosts(settings.refuse_unknown_hosts) {}

void HttpShared::set_limits(const HttpLimits& limits) noexcept {
  keepalive_timeout_ms.store(limits.keepalive_timeout_ms, std::memory_order_relaxed);
  request_timeout_ms.store(limits.request_timeout_ms, std::memory_order_relaxed);
  send_timeout_ms.store(limits.send_timeout_ms, std::memory_order_relaxed);
  max_requests_per_connection.store(limits.max_requests_per_connection, std::memory_order_relaxed);
}

HttpServer::HttpServer(const HttpSettings& settings, std::size_t workers, app::Counters& counters)
    : shared_(settings, workers),
      // Responses leave as they are written: a short last piece (a multipart's closing
      // delimiter, an answer behind a large one) must not wait for the client's delayed ACK
      // (nginx's tcp_nodelay). Set on the listeners: every accepted socket inherits it.
      tcp_("http", settings.listeners, settings.accept_mode, workers,
           settings.limits.max_connections, counters, {.nodelay = true, .keepalive = {}}),
      proxy_protocol_(settings.proxy_protocol) {
  proxy_protocol_.resize(settings.listeners.size(), false);
  // A client and the file it asks for (one not in the file cache is opened per request): near
  // the descriptor limit the acceptors leave a client in the backlog rather than take the last
  // descriptor, which the clients already held need to open their files.
  tcp_.set_descriptors_per_connection(2);
  roots_.push_back(open_root(settings.site.root));
  for (const SiteSettings& site : settings.virtual_hosts) roots_.push_back(open_root(site.root));
  std::vector<int> roots;
  for (const zio::UniqueFd& root : roots_) roots.push_back(root.get());
  for (const auto& [extension, type] : settings.mime_types) types_.set(extension, type);
  types_.set_default(settings.default_type);
  // Each site's access log: a virtual host's own, else the top level's; sites that name the same
  // file share one LogFile (one descriptor, whole lines from one buffer per worker).
  // (Paths compare in absolute, normal form: "a.log" and "./a.log" are one file.)
  std::vector<int> site_logs;
  std::vector<std::filesystem::path> opened;
  auto log_for = [&](const std::string& path, const std::string& key) {
    if (path.empty()) return -1;
    const std::filesystem::path normal = std::filesystem::absolute(path).lexically_normal();
    for (std::size_t i = 0; i < opened.size(); ++i) {
      if (opened[i] == normal) return static_cast<int>(i);
    }
    access_logs_.push_back(std::make_unique<app::LogFile>(path, key));
    opened.push_back(normal);
    return static_cast<int>(access_logs_.size() - 1);
  };
  site_logs.push_back(log_for(settings.access_log, "access_log"));
  for (std::size_t i = 0; i < settings.virtual_hosts.size(); ++i) {
    const std::optional<std::string>& own = settings.virtual_hosts[i].access_log;
    site_logs.push_back(own ? log_for(*own, "virtual_hosts[" + std::to_string(i) + "].access_log")
                            : site_logs[0]);
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(workers, 1); ++i) {
    workers_.push_back(
        std::make_unique<HttpWorker>(i, roots, types_, settings, access_logs_, site_logs));
  }
  const HttpWorker& first = *workers_.front();
  for (std::size_t i = 0; i < first.sites.size(); ++i) {
    const SiteSettings& site = i == 0 ? settings.site : settings.virtual_hosts[i - 1];
    std::string index;
    for (const std::string& name : site.index_files) index += (index.empty() ? "" : ", ") + name;
    std::string names;
    for (const std::string& name : site.names) names += (names.empty() ? "" : " ") + name;
    const bool confined = first.sites[i]->cache.confined();
    if (confined && !first.sites[i]->cache.uses_openat2()) {
      spdlog::warn(
          "http: openat2 is not available (kernel < 5.6, or refused by a seccomp filter): "
          "symlinks under {} are refused, also those that stay inside it",
          site.root);
    }
    spdlog::info("http: {} serving {} (index {}, symlinks {}, file cache {} s)",
                 i == 0 ? std::string("default site") : "virtual host " + names, site.root, index,
                 confined ? "confined to the root" : "followed anywhere",
                 static_cast<double>(settings.file_cache.validity_ms) / 1000.0);
  }
}

HttpServer::~HttpServer() {
  // Stop the flushers if the runtime still runs; each buffer writes what is left when its
  // worker state is destroyed (after the runtime's threads are gone).
  for (auto& flusher : flushers_) flusher.cancel();
}

void HttpServer::start(zell::Runtime& runtime) {
  tcp_.start(
      runtime,
      [this](zio::UniqueFd socket, app::ConnectionGate::Ticket ticket, std::size_t worker,
             std::size_t listener) {
        return http_connection(std::move(socket), std::move(ticket), *workers_[worker], shared_,
                               proxy_protocol_[listener]);
      },
      [](zio::UniqueFd socket, std::size_t) { return refuse(std::move(socket)); });
  if (!access_logs_.empty()) {
    for (auto& worker : workers_) {
      std::vector<app::LogBuffer*> buffers;
      for (const auto& buffer : worker->access_logs) buffers.push_back(&buffer->lines());
      flushers_.push_back(runtime.spawn_on_worker(
          worker->index, app::flush_log_buffers(std::move(buffers), "http: access log")));
    }
    for (const auto& log : access_logs_) spdlog::info("http: access log {}", log->path());
  }
}

std::string HttpServer::reopen_access_logs() {
  std::string errors;
  for (const auto& log : access_logs_) {
    if (const std::string error = log->reopen(); !error.empty()) {
      errors += (errors.empty() ? "" : "; ") + ("the access log " + log->path() + ": " + error);
    }
  }
  return errors;
}

bool HttpServer::drain(std::chrono::milliseconds grace) {
  shared_.idle.begin_drain();
  return tcp_.drain(grace);
}

void HttpServer::set_limits(const HttpLimits& limits) noexcept {
  tcp_.set_max_connections(limits.max_connections);
  shared_.set_limits(limits);
}

}  // namespace zap::http
