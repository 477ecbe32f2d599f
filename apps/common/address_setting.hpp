// Socket addresses in configs and flags, checked at start-up with path-named errors.
//
//   zio::SocketAddress a = parse_address_setting("127.0.0.1:9901", "admin.listen");
//   zio::SocketAddress b = read_host_port(listener_reader);   // {"host": "::1", "port": 7000}
//
// Numeric addresses only (zio never resolves names). Port 0 asks the kernel for a free port.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <zap/zio/address.hpp>

#include "config_reader.hpp"

namespace zap::app {

// "host:port" or "[v6]:port"; throws ConfigError naming `path`.
zio::SocketAddress parse_address_setting(const std::string& text, const std::string& path);

// Each --listen flag's address, in order; throws ConfigError for a malformed one, or for an
// address (a port other than 0) given twice -- at --check already, not only when binding.
std::vector<zio::SocketAddress> parse_listen_flags(const std::vector<std::string>& texts);

// Throws ConfigError if admin.listen (if set) is also one of the TCP `listeners` (a port other
// than 0): the second bind would fail at start, so --check refuses it already.
void refuse_admin_on_a_listener(const std::optional<std::string>& admin_listen,
                                const std::vector<zio::SocketAddress>& listeners);

// Reads "host" (default "127.0.0.1") and "port" (required, 0-65535) from `reader`.
zio::SocketAddress read_host_port(JsonReader& reader);

// Fails at `reader`'s "port" if `address` (a port other than 0) is already in `earlier`, the
// listeners read before it: two listeners on one address would share its connections.
// `listeners_key` names the array in the message ("listeners").
void refuse_repeated_listener(const JsonReader& reader, const zio::SocketAddress& address,
                              const std::vector<zio::SocketAddress>& earlier,
                              const std::string& listeners_key = "listeners");

}  // namespace zap::app
