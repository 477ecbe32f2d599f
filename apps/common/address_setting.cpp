#include "address_setting.hpp"

#include <algorithm>

namespace zap::app {

zio::SocketAddress parse_address_setting(const std::string& text, const std::string& path) {
  std::error_code ec;
  zio::SocketAddress address = zio::SocketAddress::parse(text, ec);
  if (ec || (address.family() != AF_INET && address.family() != AF_INET6)) {
    throw ConfigError(path + ": expected \"ip:port\" or \"[ipv6]:port\", got \"" + text + "\"" +
                      (ec ? " (" + ec.message() + ")" : std::string()));
  }
  return address;
}

std::vector<zio::SocketAddress> parse_listen_flags(const std::vector<std::string>& texts) {
  std::vector<zio::SocketAddress> addresses;
  for (const std::string& text : texts) {
    const zio::SocketAddress address = parse_address_setting(text, "--listen");
    if (address.port() != 0 &&
        std::find(addresses.begin(), addresses.end(), address) != addresses.end()) {
      throw ConfigError("--listen: " + address.to_string() + " is given twice");
    }
    addresses.push_back(address);
  }
  return addresses;
}

void refuse_admin_on_a_listener(const std::optional<std::string>& admin_listen,
                                const std::vector<zio::SocketAddress>& listeners) {
  if (!admin_listen) return;
  const zio::SocketAddress admin = parse_address_setting(*admin_listen, "admin.listen");
  if (admin.port() == 0) return;
  if (std::find(listeners.begin(), listeners.end(), admin) != listeners.end()) {
    throw ConfigError("admin.listen: " + admin.to_string() + " is also a listener");
  }
}

zio::SocketAddress read_host_port(JsonReader& reader) {
  const std::string host = reader.string("host", "127.0.0.1");
  const auto port = reader.required_integer("port", 0, 65535);
  const bool v6 = host.find(':') != std::string::npos;
  std::error_code ec;
  zio::SocketAddress address =
      zio::SocketAddress::parse((v6 ? "[" + host + "]" : host) + ":" + std::to_string(port), ec);
  if (ec) reader.fail("host", "expected a numeric IPv4 or IPv6 address, got \"" + host + "\"");
  return address;
}

void refuse_repeated_listener(const JsonReader& reader, const zio::SocketAddress& address,
                              const std::vector<zio::SocketAddress>& earlier,
                              const std::string& listeners_key) {
  if (address.port() == 0) return;
  for (std::size_t i = 0; i < earlier.size(); ++i) {
    if (earlier[i] == address) {
      reader.fail("port", address.to_string() + " is already " + listeners_key + "[" +
                              std::to_string(i) + "]");
    }
  }
}

}  // namespace zap::app
