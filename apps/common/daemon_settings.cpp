#include "daemon_settings.hpp"

#include "address_setting.hpp"

namespace zap::app {

DaemonSettings read_daemon_settings(JsonReader& root, const std::string& config_dir) {
  DaemonSettings settings;
  if (auto runtime = root.object("runtime")) {
    auto& r = settings.runtime;
    r.workers = runtime->integer("workers", 0, 1024, r.workers);
    r.cpus = runtime->string("cpus", r.cpus);
    r.io_backend = runtime->choice("io_backend", {"auto", "io_uring", "epoll"}, r.io_backend);
    r.topology = runtime->string("topology", r.topology);
    runtime->finish();
  }
  if (auto log = root.object("log")) {
    auto& l = settings.log;
    l.level = log->choice("level", log_level_names(), l.level);
    l.file = resolve_config_path(config_dir, log->string("file", l.file));
    l.max_size_mb = log->integer("max_size_mb", 1, 1 << 20, l.max_size_mb);
    l.max_files = log->integer("max_files", 1, 1000, l.max_files);
    log->finish();
  }
  settings.shutdown_grace_ms =
      root.integer("shutdown_grace_ms", 0, 3'600'000, settings.shutdown_grace_ms);
  if (auto admin = root.object("admin")) {
    settings.admin_listen = admin->required_string("listen");
    (void)parse_address_setting(*settings.admin_listen, admin->path_of("listen"));
    admin->finish();
  }
  return settings;
}

}  // namespace zap::app
