// SocketAddress parsing and printing. Numeric only, no allocation except to_string().
#include "zap/zio/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace zap::zio {
namespace {

class AddressCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zap.zio.address"; }
  std::string message(int value) const override {
    switch (static_cast<AddressError>(value)) {
      case AddressError::empty:
        return "empty address";
      case AddressError::missing_port:
        return "missing port (expected host:port)";
      case AddressError::bad_port:
        return "port is not a decimal number";
      case AddressError::port_out_of_range:
        return "port out of range (0..65535)";
      case AddressError::bad_ip:
        return "not a numeric IPv4 or [IPv6] address";
      case AddressError::path_too_long:
        return "unix socket path too long";
      case AddressError::nul_inside:
        return "a NUL byte inside the address";
    }
    return "unknown address error";
  }
};

// Parses a decimal port; "" or non-digits are bad_port, > 65535 is port_out_of_range.
std::error_code parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty()) return AddressError::missing_port;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return AddressError::bad_port;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return AddressError::port_out_of_range;
  }
  port = static_cast<std::uint16_t>(value);
  return {};
}

}  // namespace

const std::error_category& address_category() noexcept {
  static const AddressCategory category;
  return category;
}

SocketAddress::SocketAddress() noexcept : len_(0) {
  std::memset(&storage_, 0, sizeof(storage_));
  storage_.any.sa_family = AF_UNSPEC;
}

SocketAddress SocketAddress::ipv4(std::uint32_t host_order_ip, std::uint16_t port) noexcept {
  SocketAddress a;
  a.storage_.v4.sin_family = AF_INET;
  a.storage_.v4.sin_addr.s_addr = htonl(host_order_ip);
  a.storage_.v4.sin_port = htons(port);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

SocketAddress SocketAddress::ipv4_loopback(std::uint16_t port) noexcept {
  return ipv4(INADDR_LOOPBACK, port);
}

SocketAddress SocketAddress::ipv6_loopback(std::uint16_t port) noexcept {
  SocketAddress a;
  a.storage_.v6.sin6_family = AF_INET6;
  a.storage_.v6.sin6_addr = in6addr_loopback;
  a.storage_.v6.sin6_port = htons(port);
  a.len_ = sizeof(sockaddr_in6);
  return a;
}

SocketAddress SocketAddress::unix_path(std::string_view path, std::error_code& ec) noexcept {
  SocketAddress a;
  ec.clear();
  if (path.empty()) {
    ec = AddressError::empty;
    return a;
  }
  // sun_path must hold the path and (for filesystem paths) its terminating NUL.
  if (path.size() >= sizeof(a.storage_.un.sun_path)) {
    ec = AddressError::path_too_long;
    return a;
  }
  a.storage_.un.sun_family = AF_UNIX;
  std::memcpy(a.storage_.un.sun_path, path.data(), path.size());
  const bool abstract = path[0] == '@';
  if (abstract) a.storage_.un.sun_path[0] = '\0';
  // Abstract names are length-delimited (no NUL); filesystem paths include the NUL.
  a.len_ =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  return a;
}

SocketAddress SocketAddress::from_native(const sockaddr* sa, socklen_t len) noexcept {
  SocketAddress a;
  if (sa == nullptr || len == 0) return a;
  if (len > sizeof(a.storage_)) len = sizeof(a.storage_);
  std::memcpy(&a.storage_, sa, len);
  a.len_ = len;
  return a;
}

SocketAddress SocketAddress::parse(std::string_view text, std::error_code& ec) noexcept {
  ec.clear();
  if (text.empty()) {
    ec = AddressError::empty;
    return {};
  }
  // inet_pton and the kernel's socket paths stop at a NUL: "127.0.0.1\0junk" would pass as
  // 127.0.0.1, "/tmp/a\0b" bind /tmp/a. (An abstract name, "unix:@...", may hold any byte.)
  if (text.find('\0') != std::string_view::npos && !text.starts_with("unix:@")) {
    ec = AddressError::nul_inside;
    return {};
  }
  if (text.starts_with("unix:")) return unix_path(text.substr(5), ec);
  if (text[0] == '/' || text[0] == '.') return unix_path(text, ec);

  if (text[0] == '[') {  // "[v6]:port", optional "%scope"
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      ec = AddressError::bad_ip;
      return {};
    }
    std::string_view host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest[0] != ':') {
      ec = AddressError::missing_port;
      return {};
    }
    std::uint16_t port = 0;
    if ((ec = parse_port(rest.substr(1), port))) return {};
    std::uint32_t scope = 0;
    if (const auto pct = host.find('%'); pct != std::string_view::npos) {
      std::string_view zone = host.substr(pct + 1);
      host = host.substr(0, pct);
      auto [end, err] = std::from_chars(zone.data(), zone.data() + zone.size(), scope);
      if (err != std::errc() || end != zone.data() + zone.size()) {
        char name[IF_NAMESIZE + 1] = {};
        if (zone.size() > IF_NAMESIZE) {
          ec = AddressError::bad_ip;
          return {};
        }
        std::memcpy(name, zone.data(), zone.size());
        scope = if_nametoindex(name);
        if (scope == 0) {
          ec = AddressError::bad_ip;
          return {};
        }
      }
    }
    char buf[INET6_ADDRSTRLEN + 1] = {};
    if (host.empty() || host.size() >= sizeof(buf)) {
      ec = AddressError::bad_ip;
      return {};
    }
    std::memcpy(buf, host.data(), host.size());
    SocketAddress a;
    if (inet_pton(AF_INET6, buf, &a.storage_.v6.sin6_addr) != 1) {
      ec = AddressError::bad_ip;
      return {};
    }
    a.storage_.v6.sin6_family = AF_INET6;
    a.storage_.v6.sin6_port = htons(port);
    a.storage_.v6.sin6_scope_id = scope;
    a.len_ = sizeof(sockaddr_in6);
    return a;
  }

  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    ec = AddressError::missing_port;
    return {};
  }
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {  // bare IPv6 without brackets is ambiguous
    ec = AddressError::bad_ip;
    return {};
  }
  std::uint16_t port = 0;
  if ((ec = parse_port(text.substr(colon + 1), port))) return {};
  char buf[INET_ADDRSTRLEN + 1] = {};
  if (host.empty() || host.size() >= sizeof(buf)) {
    ec = AddressError::bad_ip;
    return {};
  }
  std::memcpy(buf, host.data(), host.size());
  SocketAddress a;
  if (inet_pton(AF_INET, buf, &a.storage_.v4.sin_addr) != 1) {  // rejects names: numeric only
    ec = AddressError::bad_ip;
    return {};
  }
  a.storage_.v4.sin_family = AF_INET;
  a.storage_.v4.sin_port = htons(port);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

std::uint16_t SocketAddress::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(storage_.v4.sin_port);
    case AF_INET6:
      return ntohs(storage_.v6.sin6_port);
    default:
      return 0;
  }
}

void SocketAddress::set_port(std::uint16_t port) noexcept {
  if (family() == AF_INET) storage_.v4.sin_port = htons(port);
  if (family() == AF_INET6) storage_.v6.sin6_port = htons(port);
}

void SocketAddress::Text::append(std::string_view part) noexcept {
  const std::size_t n = std::min(part.size(), kCapacity - size_);  // cannot cut: see kCapacity
  std::memcpy(data_ + size_, part.data(), n);
  size_ += n;
}

SocketAddress::Text SocketAddress::text() const noexcept {
  Text out;
  char buf[INET6_ADDRSTRLEN + 1] = {};
  char number[16];
  const auto decimal = [&number](std::uint32_t value) {
    return std::string_view(number, std::to_chars(number, number + sizeof number, value).ptr);
  };
  switch (family()) {
    case AF_INET:
      inet_ntop(AF_INET, &storage_.v4.sin_addr, buf, sizeof(buf));
      out.append(buf);
      out.append(":");
      out.append(decimal(port()));
      break;
    case AF_INET6:
      inet_ntop(AF_INET6, &storage_.v6.sin6_addr, buf, sizeof(buf));
      out.append("[");
      out.append(buf);
      if (storage_.v6.sin6_scope_id != 0) {
        out.append("%");
        out.append(decimal(storage_.v6.sin6_scope_id));
      }
      out.append("]:");
      out.append(decimal(port()));
      break;
    case AF_UNIX: {
      const auto path_len =
          len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
      out.append("unix:");
      if (path_len == 0) break;  // unnamed (e.g. a connecting client)
      if (storage_.un.sun_path[0] == '\0') {
        out.append("@");
        out.append(std::string_view(storage_.un.sun_path + 1, path_len - 1));
      } else {
        out.append(std::string_view(storage_.un.sun_path, strnlen(storage_.un.sun_path, path_len)));
      }
      break;
    }
    default:
      out.append("<unspecified>");
  }
  return out;
}

std::string SocketAddress::to_string() const { return std::string(text().view()); }

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

}  // namespace zap::zio
