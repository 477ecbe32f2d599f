// HttpSettings: zap-http's config -- the shared daemon keys plus the site, the connection limits
// and the file cache.
//
//   {
//     "listeners": [{"host": "0.0.0.0", "port": 8080,
//                    "proxy_protocol": false}],   // true: behind a proxy that sends PROXY v1/v2
//     "root": "site",                     // document root; relative: to the config file's folder
//     "index": ["index.html"],            // tried in order for a request ending in "/"
//     "follow_symlinks": false,           // false: nothing outside root, even through a symlink
//     "mime_types": {"md": "text/markdown; charset=utf-8"},   // added to / override built-ins
//     "default_type": "application/octet-stream",
//     "headers": {"Cache-Control": "max-age=3600"},   // added to 2xx/3xx responses
//     "gzip_static": false,               // serve <file>.gz to clients that accept gzip
//     "autoindex": false,                 // list a directory that has no index file (else 403)
//     "accept": "per_worker",             // or "shared" (see stream_server.hpp)
//     "max_connections": 10000,           // more are accepted, then closed at once (counted)
//     "keepalive_timeout_ms": 60000,      // idle between requests; 0: close after each response
//     "request_timeout_ms": 10000,        // from a request's first byte to the end of its head
//     "send_timeout_ms": 60000,           // a client that takes no byte for this long is dropped
//     "max_requests_per_connection": 10000,   // then "Connection: close"; 0: no limit
//     "max_request_head": 8192,           // request line + fields; larger: 414 / 431
//     "max_request_body": 1048576,        // larger request bodies: 413; smaller ones are dropped
//     "file_cache": {"entries": 4096, "max_bytes": 67108864, "max_file_size": 262144,
//                    "validity_ms": 1000},
//     "access_log": "",                   // a file for nginx-style "combined" lines; "" = none
//                                         // (relative: to the config file's folder)
//     "virtual_hosts": [{"names": ["example.com", "*.example.com"], "root": "example",
//                        ...index, follow_symlinks, headers, gzip_static, autoindex,
//                        "access_log": "example.log"}],   // its own; "" none; unset: the above
//     "runtime": {...}, "log": {...}, "shutdown_grace_ms": 5000, "admin": {...}
//   }
//
// Every key is optional; without --config the embedded kDefaultHttpConfig is used (the current
// directory on 127.0.0.1:8080). Reading throws ConfigError naming the JSON path of the first
// mistake; a root that is not a readable directory is one too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <zap/zio/address.hpp>

#include "command_line.hpp"
#include "daemon_settings.hpp"
#include "descriptor_limit.hpp"
#include "file_cache.hpp"
#include "stream_server.hpp"

namespace zap::http {

inline constexpr const char* kDefaultHttpConfig =
    R"({"listeners": [{"host": "127.0.0.1", "port": 8080}], "root": "."})";

inline constexpr std::size_t kMaxVirtualHosts = 256;

// The settings SIGHUP may change while running.
struct HttpLimits {
  std::int64_t max_connections = 10000;
  std::int64_t keepalive_timeout_ms = 60000;
  std::int64_t request_timeout_ms = 10000;
  std::int64_t send_timeout_ms = 60000;
  std::int64_t max_requests_per_connection = 10000;
};

// A site: a document root and how it is served. The top level of the config describes the
// default site; each of "virtual_hosts" is another, chosen by the request's Host.
struct SiteSettings {
  // Virtual hosts only: the Host names it answers, lowercase: "example.com", or "*.example.com"
  // for every name under example.com (not example.com itself). An exact name wins, else the
  // longest matching wildcard; a Host no virtual host names gets the default site.
  std::vector<std::string> names;
  std::string root;  // absolute or relative to the working directory (already resolved)
  std::vector<std::string> index_files = {"index.html"};
  bool follow_symlinks = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string rendered_headers;  // "Name: value\r\n" for each of `headers`
  bool gzip_static = false;
  bool autoindex = false;
  // Virtual hosts only: a log of its own (nginx's access_log in a server block), resolved like
  // root; "" = none for this host; unset = the top level's "access_log".
  std::optional<std::string> access_log;

  friend bool operator==(const SiteSettings&, const SiteSettings&) = default;
};

struct HttpSettings {
  app::DaemonSettings daemon;
  std::vector<zio::SocketAddress> listeners;
  // proxy_protocol[i]: connections to listeners[i] start with a PROXY protocol header.
  std::vector<bool> proxy_protocol;
  SiteSettings site;                        // the default site
  std::vector<SiteSettings> virtual_hosts;  // at most kMaxVirtualHosts
  // "unknown_hosts": "refuse" -- a Host no virtual host names (or an address, or none) is
  // answered 421 Misdirected Request, not by the default site.
  bool refuse_unknown_hosts = false;
  std::vector<std::pair<std::string, std::string>> mime_types;
  std::string default_type = "application/octet-stream";
  app::AcceptMode accept_mode = app::AcceptMode::kPerWorker;
  HttpLimits limits;
  std::int64_t max_request_head = 8192;
  std::int64_t max_request_body = 1 << 20;
  FileCache::Options file_cache;
  std::string access_log;  // "" = off; else resolved like root
};

// zap-http's command line: the common flags plus overrides of its own keys.
struct HttpFlags {
  app::CommonFlags common;
  std::vector<std::string> listen;  // replaces "listeners"
  std::string root;
  std::optional<std::int64_t> max_connections;
  std::optional<std::int64_t> keepalive_timeout_ms;
  std::optional<std::int64_t> cache_validity_ms;
  std::string accept;
  std::string access_log;  // "off" disables the config's
};

void add_http_flags(CLI::App& app, HttpFlags& flags);

// Reads flags.common.config (or the embedded default when empty) and applies the flags on top.
HttpSettings load_http_settings(const HttpFlags& flags);

// The descriptors these settings need: a socket per connection, and one per file the cache keeps
// open (a file being sent that is not in the cache takes one more while it is sent).
app::DescriptorNeed descriptor_need(const HttpSettings& settings);

}  // namespace zap::http
