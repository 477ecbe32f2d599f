#include "echo_settings.hpp"

#include "address_setting.hpp"
#include "config_reader.hpp"

namespace zap::echo {

namespace {

EchoSettings read_echo_settings(const nlohmann::json& json, const std::string& config_dir) {
  app::JsonReader root(json, "");
  EchoSettings settings;
  settings.daemon = app::read_daemon_settings(root, config_dir);
  for (app::JsonReader& reader : root.array("listeners")) {
    ListenerSettings listener;
    listener.address = app::read_host_port(reader);
    listener.udp = reader.choice("protocol", {"tcp", "udp"}, "tcp") == "udp";
    // One port may carry both protocols: only the same protocol's listeners count (the others
    // stand in as empty addresses, which keeps the indices in the message right).
    std::vector<zio::SocketAddress> same_protocol;
    for (const ListenerSettings& earlier : settings.listeners) {
      same_protocol.push_back(earlier.udp == listener.udp ? earlier.address : zio::SocketAddress());
    }
    app::refuse_repeated_listener(reader, listener.address, same_protocol);
    reader.finish();
    settings.listeners.push_back(listener);
  }
  if (root.has("listeners") && settings.listeners.empty()) {
    root.fail("listeners", "expected at least one listener");
  }
  settings.accept_mode = app::read_accept_mode(root);
  auto& limits = settings.limits;
  limits.max_connections = root.integer("max_connections", 1, 10'000'000, limits.max_connections);
  limits.idle_timeout_ms = root.integer("idle_timeout_ms", 0, 86'400'000, limits.idle_timeout_ms);
  settings.buffer_size = root.integer("buffer_size", 64, 16 << 20, settings.buffer_size);
  settings.max_buffer_size =
      root.integer("max_buffer_size", 64, 16 << 20, settings.max_buffer_size);
  root.finish();
  return settings;
}

}  // namespace

void add_echo_flags(CLI::App& app, EchoFlags& flags) {
  app::add_common_flags(app, flags.common, "zap-echo");
  app.add_option("-l,--listen", flags.listen,
                 "TCP echo address ip:port (repeatable); replaces the config's listeners");
  app.add_option("--max-connections", flags.max_connections, "Override max_connections")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--idle-timeout-ms", flags.idle_timeout_ms, "Override idle_timeout_ms (0: none)")
      ->check(CLI::Range(0, 86'400'000));
  app.add_option("--buffer-size", flags.buffer_size, "Override buffer_size (bytes/connection)")
      ->check(CLI::Range(64, 16 << 20));
  app.add_option("--max-buffer-size", flags.max_buffer_size,
                 "Override max_buffer_size (the buffer grows up to it while a stream fills it)")
      ->check(CLI::Range(64, 16 << 20));
  app.add_option("--accept", flags.accept, "Override accept: per_worker or shared")
      ->check(CLI::IsMember({"per_worker", "shared"}));
}

EchoSettings load_echo_settings(const EchoFlags& flags) {
  const std::string& path = flags.common.config;
  EchoSettings settings = read_echo_settings(
      path.empty() ? app::parse_json_text(kDefaultEchoConfig, "<built-in config>")
                   : app::load_json_file(path),
      app::config_folder(path));
  app::apply_overrides(flags.common, settings.daemon);
  if (!flags.listen.empty()) {
    settings.listeners.clear();
    for (const zio::SocketAddress& address : app::parse_listen_flags(flags.listen)) {
      settings.listeners.push_back({address, false});
    }
  }
  if (flags.max_connections) settings.limits.max_connections = *flags.max_connections;
  if (flags.idle_timeout_ms) settings.limits.idle_timeout_ms = *flags.idle_timeout_ms;
  if (flags.buffer_size) settings.buffer_size = *flags.buffer_size;
  if (flags.max_buffer_size) settings.max_buffer_size = *flags.max_buffer_size;
  if (!flags.accept.empty()) {
    settings.accept_mode = app::parse_accept_mode(flags.accept);
  }
  if (settings.listeners.empty()) {
    settings.listeners.push_back(
        {app::parse_address_setting("127.0.0.1:7000", "listeners"), false});
  }
  std::vector<zio::SocketAddress> tcp;
  for (const ListenerSettings& listener : settings.listeners) {
    if (!listener.udp) tcp.push_back(listener.address);
  }
  app::refuse_admin_on_a_listener(settings.daemon.admin_listen, tcp);
  return settings;
}

app::DescriptorNeed descriptor_need(const EchoSettings& settings) {
  const std::int64_t max_connections = settings.limits.max_connections;
  return {static_cast<std::uint64_t>(max_connections) + 64,
          "max_connections " + std::to_string(max_connections)};
}

}  // namespace zap::echo
