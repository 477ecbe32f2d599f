#include "http_settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "access_log.hpp"
#include "address_setting.hpp"
#include "ascii.hpp"
#include "config_reader.hpp"
#include "response.hpp"
#include "server_names.hpp"

namespace zap::http {

namespace {

// An index file name is one path segment: no slash, not "." or "..".
void check_index_name(const std::string& name, const std::string& path) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw app::ConfigError(path + ": expected a file name, got \"" + name + "\"");
  }
}

// A Content-Type value we can put in a response head: printable, one line, and short enough
// that every head fits in kMaxResponseHead.
bool is_header_value(const std::string& text) {
  if (text.empty() || text.size() > 200) return false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void read_file_cache(app::JsonReader& cache, FileCache::Options& options) {
  options.max_entries = static_cast<std::size_t>(
      cache.integer("entries", 0, 10'000'000, static_cast<std::int64_t>(options.max_entries)));
  options.max_bytes = static_cast<std::size_t>(cache.integer(
      "max_bytes", 0, std::int64_t{1} << 40, static_cast<std::int64_t>(options.max_bytes)));
  options.max_file_in_memory = static_cast<std::size_t>(
      cache.integer("max_file_size", 0, std::int64_t{1} << 30,
                    static_cast<std::int64_t>(options.max_file_in_memory)));
  options.validity_ms = cache.integer("validity_ms", 0, 86'400'000, options.validity_ms);
  cache.finish();
}

// The keys of a site (the top level's, or a virtual host's), at `reader`'s path. A virtual host
// needs its own root; the default site's is "." (the config file's folder).
void read_site(app::JsonReader& reader, const std::string& config_dir, bool virtual_host,
               SiteSettings& site) {
  site.root = virtual_host ? reader.required_string("root") : reader.string("root", ".");
  if (site.root.empty()) reader.fail("root", "expected a directory, got \"\"");
  site.root = app::resolve_config_path(config_dir, site.root);
  if (reader.has("index")) {
    site.index_files = reader.string_array("index");
    for (std::size_t i = 0; i < site.index_files.size(); ++i) {
      check_index_name(site.index_files[i], reader.path_of("index[" + std::to_string(i) + "]"));
    }
  }
  site.follow_symlinks = reader.boolean("follow_symlinks", site.follow_symlinks);
  site.headers = reader.string_map("headers");
  for (const auto& [name, value] : site.headers) {
    const std::string key = "headers." + name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      reader.fail(key, "expected a header field name (a token)");
    }
    if (!is_header_value(value) && !value.empty()) {
      reader.fail(key, "expected a field value (one line, 1-200 characters)");
    }
    for (const char* ours : {"content-length", "content-type", "content-range", "content-encoding",
                             "connection", "transfer-encoding", "date", "etag", "last-modified",
                             "location", "server", "vary", "accept-ranges"}) {
      if (equals_ignore_case(name, ours)) reader.fail(key, "is set by zap-http itself");
    }
    site.rendered_headers += name + ": " + value + "\r\n";
  }
  if (site.rendered_headers.size() > kMaxExtraHeaders) {
    reader.fail("headers", "at most " + std::to_string(kMaxExtraHeaders) + " bytes in all");
  }
  site.gzip_static = reader.boolean("gzip_static", site.gzip_static);
  site.autoindex = reader.boolean("autoindex", site.autoindex);
}

// A virtual host's "names": host names as a Host field carries them (letters, digits, '-', '.'),
// lowercased, optionally "*." in front; each in one virtual host only.
void read_host_names(app::JsonReader& reader, SiteSettings& site,
                     const std::vector<SiteSettings>& all) {
  if (!reader.has("names")) reader.fail("names", "required: the host names it answers");
  site.names = app::read_server_names(reader, "host name");
  for (std::size_t i = 0; i < site.names.size(); ++i) {
    const std::string& name = site.names[i];
    const std::string key = "names[" + std::to_string(i) + "]";
    const auto earlier = site.names.begin() + static_cast<std::ptrdiff_t>(i);
    bool twice = std::find(site.names.begin(), earlier, name) != earlier;
    for (const SiteSettings& other : all) {
      if (&other == &site) break;  // (the one being read is the last)
      twice = twice || std::find(other.names.begin(), other.names.end(), name) != other.names.end();
    }
    if (twice) reader.fail(key, "\"" + name + "\" is named twice");
  }
}

HttpSettings read_http_settings(const nlohmann::json& json, const std::string& config_dir) {
  app::JsonReader root(json, "");
  HttpSettings settings;
  settings.daemon = app::read_daemon_settings(root, config_dir);
  for (app::JsonReader& reader : root.array("listeners")) {
    const zio::SocketAddress address = app::read_host_port(reader);
    app::refuse_repeated_listener(reader, address, settings.listeners);
    settings.listeners.push_back(address);
    settings.proxy_protocol.push_back(reader.boolean("proxy_protocol", false));
    reader.finish();
  }
  if (root.has("listeners") && settings.listeners.empty()) {
    root.fail("listeners", "expected at least one listener");
  }
  read_site(root, config_dir, false, settings.site);
  settings.mime_types = root.string_map("mime_types");
  for (const auto& [extension, type] : settings.mime_types) {
    if (extension.empty() || extension.find_first_of("./") != std::string::npos) {
      root.fail("mime_types." + extension, "expected an extension without a dot");
    }
    if (!is_header_value(type)) {
      root.fail("mime_types." + extension, "expected a media type (one line, 1-200 characters)");
    }
  }
  settings.default_type = root.string("default_type", settings.default_type);
  if (!is_header_value(settings.default_type)) {
    root.fail("default_type", "expected a media type (one line, 1-200 characters)");
  }
  settings.accept_mode = app::read_accept_mode(root);
  auto& limits = settings.limits;
  limits.max_connections = root.integer("max_connections", 1, 10'000'000, limits.max_connections);
  limits.keepalive_timeout_ms =
      root.integer("keepalive_timeout_ms", 0, 86'400'000, limits.keepalive_timeout_ms);
  limits.request_timeout_ms =
      root.integer("request_timeout_ms", 1, 86'400'000, limits.request_timeout_ms);
  limits.send_timeout_ms = root.integer("send_timeout_ms", 1, 86'400'000, limits.send_timeout_ms);
  limits.max_requests_per_connection =
      root.integer("max_requests_per_connection", 0, INT64_MAX, limits.max_requests_per_connection);
  settings.max_request_head =
      root.integer("max_request_head", 256, 1 << 20, settings.max_request_head);
  settings.max_request_body =
      root.integer("max_request_body", 0, std::int64_t{1} << 40, settings.max_request_body);
  if (auto cache = root.object("file_cache")) read_file_cache(*cache, settings.file_cache);
  settings.access_log = root.string("access_log", "");
  if (!settings.access_log.empty()) {
    settings.access_log = app::resolve_config_path(config_dir, settings.access_log);
  }
  for (app::JsonReader& reader : root.array("virtual_hosts")) {
    if (settings.virtual_hosts.size() == kMaxVirtualHosts) {
      root.fail("virtual_hosts", "at most " + std::to_string(kMaxVirtualHosts) + " virtual hosts");
    }
    SiteSettings& site = settings.virtual_hosts.emplace_back();
    read_site(reader, config_dir, true, site);
    read_host_names(reader, site, settings.virtual_hosts);
    if (reader.has("access_log")) {
      const std::string path = reader.string("access_log", "");
      site.access_log = path.empty() ? path : app::resolve_config_path(config_dir, path);
    }
    reader.finish();
  }
  settings.refuse_unknown_hosts =
      root.choice("unknown_hosts", {"default_site", "refuse"}, "default_site") == "refuse";
  if (settings.refuse_unknown_hosts && settings.virtual_hosts.empty()) {
    root.fail("unknown_hosts", "\"refuse\" needs virtual_hosts (else every Host is unknown)");
  }
  // The default site answers every Host no virtual host names, and IP addresses: its root must
  // be chosen, not fall back to the config file's own folder (unless those are refused).
  if (!settings.virtual_hosts.empty() && !settings.refuse_unknown_hosts && !root.has("root")) {
    root.fail("root", "required with virtual_hosts (the site for every other Host)");
  }
  root.finish();
  return settings;
}

// The root must be a directory we can search: found now, at --check, not at the first request.
void check_root(const std::string& root, const std::string& path) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) {
    throw app::ConfigError(path + ": cannot use \"" + root + "\": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw app::ConfigError(path + ": \"" + root + "\" is not a directory");
  }
  if (::access(root.c_str(), X_OK) != 0) {
    throw app::ConfigError(path + ": cannot search \"" + root + "\": " + std::strerror(errno));
  }
}

}  // namespace

void add_http_flags(CLI::App& app, HttpFlags& flags) {
  app::add_common_flags(app, flags.common, "zap-http");
  app.add_option(
      "-l,--listen", flags.listen,
      "Address ip:port to serve on (repeatable); replaces the config's listeners (and their "
      "proxy_protocol)");
  app.add_option("-r,--root", flags.root,
                 "Override root (the directory served; with virtual_hosts: the default site's)");
  app.add_option("--max-connections", flags.max_connections, "Override max_connections")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--keepalive-timeout-ms", flags.keepalive_timeout_ms,
                 "Override keepalive_timeout_ms (0: one request per connection)")
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--cache-validity-ms", flags.cache_validity_ms,
                 "Override file_cache.validity_ms (0: check the file on every request)")
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--accept", flags.accept, "Override accept: per_worker or shared")
      ->check(CLI::IsMember({"per_worker", "shared"}));
  app.add_option("--access-log", flags.access_log,
                 "Override access_log (file of nginx-style combined lines; off: none; virtual "
                 "hosts with a log of their own keep it)");
}

HttpSettings load_http_settings(const HttpFlags& flags) {
  const std::string& path = flags.common.config;
  const std::string config_dir = app::config_folder(path);
  HttpSettings settings = read_http_settings(
      path.empty() ? app::parse_json_text(kDefaultHttpConfig, "<built-in config>")
                   : app::load_json_file(path),
      config_dir);
  app::apply_overrides(flags.common, settings.daemon);
  if (!flags.listen.empty()) {
    settings.listeners.clear();
    settings.proxy_protocol.clear();
    for (const zio::SocketAddress& address : app::parse_listen_flags(flags.listen)) {
      settings.listeners.push_back(address);
      settings.proxy_protocol.push_back(false);
    }
  }
  if (!flags.root.empty()) settings.site.root = flags.root;
  if (flags.max_connections) settings.limits.max_connections = *flags.max_connections;
  if (flags.keepalive_timeout_ms)
    settings.limits.keepalive_timeout_ms = *flags.keepalive_timeout_ms;
  if (flags.cache_validity_ms) settings.file_cache.validity_ms = *flags.cache_validity_ms;
  if (!flags.accept.empty()) settings.accept_mode = app::parse_accept_mode(flags.accept);
  if (flags.access_log == "off") {
    settings.access_log.clear();
  } else if (!flags.access_log.empty()) {
    settings.access_log = flags.access_log;
  }
  if (settings.listeners.empty()) {
    settings.listeners.push_back(app::parse_address_setting("127.0.0.1:8080", "listeners"));
    settings.proxy_protocol.push_back(false);
  }
  check_root(settings.site.root, "root");
  for (std::size_t i = 0; i < settings.virtual_hosts.size(); ++i) {
    check_root(settings.virtual_hosts[i].root, "virtual_hosts[" + std::to_string(i) + "].root");
  }
  app::refuse_admin_on_a_listener(settings.daemon.admin_listen, settings.listeners);
  // Like nginx -t: every log file is opened now.
  if (!settings.access_log.empty()) app::LogFile probe(settings.access_log, "access_log");
  for (std::size_t i = 0; i < settings.virtual_hosts.size(); ++i) {
    const std::optional<std::string>& own_log = settings.virtual_hosts[i].access_log;
    if (own_log && !own_log->empty()) {
      app::LogFile probe(*own_log, "virtual_hosts[" + std::to_string(i) + "].access_log");
    }
  }
  return settings;
}

app::DescriptorNeed descriptor_need(const HttpSettings& settings) {
  const std::int64_t max_connections = settings.limits.max_connections;
  return {static_cast<std::uint64_t>(max_connections) + settings.file_cache.max_entries + 64,
          "max_connections " + std::to_string(max_connections) + " and file_cache.entries " +
              std::to_string(settings.file_cache.max_entries)};
}

}  // namespace zap::http
