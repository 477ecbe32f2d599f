// SocketAddress: an IPv4, IPv6 or Unix-domain socket address, parsed from and printed to text.
//
// Accepted text forms (numeric only: zio never resolves names, because resolution blocks; a
// resolver belongs on a blocking pool in the runtime, above zio):
//   "127.0.0.1:80"        IPv4 and port
//   "[::1]:80"            IPv6 (brackets required) and port; "[fe80::1%2]:80" keeps the scope id
//   "unix:/run/zap.sock"  Unix-domain path; a bare "/run/zap.sock" or "./zap.sock" also works
//   "unix:@name"          Linux abstract socket (leading NUL byte)
// Malformed text gives an AddressError code (see address_category()) naming the problem:
// missing port, port out of range, bad IP, path too long, empty.
//
//   std::error_code ec;
//   SocketAddress addr = SocketAddress::parse("[::1]:8080", ec);
//   if (ec) std::fprintf(stderr, "bad address: %s\n", ec.message().c_str());
//   ::bind(fd, addr.data(), addr.size());
//   std::string text = addr.to_string();  // "[::1]:8080"
//   log_line += addr.text().view();        // the same, without an allocation
//
// Thread-safety: a value type; const access from many threads is safe.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace zap::zio {

enum class AddressError {
  empty = 1,
  missing_port,
  bad_port,           // not a decimal number
  port_out_of_range,  // > 65535
  bad_ip,
  path_too_long,  // longer than sockaddr_un::sun_path allows
  nul_inside,     // a NUL byte inside an IP address or a filesystem path (the kernel would cut it)
};

[[nodiscard]] const std::error_category& address_category() noexcept;
[[nodiscard]] inline std::error_code make_error_code(AddressError e) noexcept {
  return {static_cast<int>(e), address_category()};
}

class SocketAddress {
 public:
  // to_string()'s text in a fixed buffer, for per-connection log lines that must not allocate.
  class Text {
   public:
    // Room for the longest: "unix:@" and a 107-byte abstract name; IPv6 with a scope id and a
    // port takes at most 64.
    static constexpr std::size_t kCapacity = 120;
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

   private:
    friend class SocketAddress;
    void append(std::string_view part) noexcept;
    char data_[kCapacity];
    std::size_t size_ = 0;
  };

  SocketAddress() noexcept;  // empty (family AF_UNSPEC)

  // Parses `text` (forms above). On failure returns an empty address and sets `ec`.
  [[nodiscard]] static SocketAddress parse(std::string_view text, std::error_code& ec) noexcept;
  [[nodiscard]] static SocketAddress ipv4(std::uint32_t host_order_ip, std::uint16_t port) noexcept;
  [[nodiscard]] static SocketAddress ipv4_loopback(std::uint16_t port) noexcept;
  [[nodiscard]] static SocketAddress ipv6_loopback(std::uint16_t port) noexcept;
  [[nodiscard]] static SocketAddress unix_path(std::string_view path, std::error_code& ec) noexcept;
  // Copies a kernel-filled address (from accept/getsockname/recvfrom).
  [[nodiscard]] static SocketAddress from_native(const sockaddr* sa, socklen_t len) noexcept;

  [[nodiscard]] int family() const noexcept { return storage_.any.sa_family; }
  [[nodiscard]] bool empty() const noexcept { return family() == AF_UNSPEC; }
  [[nodiscard]] std::uint16_t port() const noexcept;  // 0 for Unix addresses
  void set_port(std::uint16_t port) noexcept;

  [[nodiscard]] const sockaddr* data() const noexcept { return &storage_.any; }
  [[nodiscard]] sockaddr* data() noexcept { return &storage_.any; }
  [[nodiscard]] socklen_t size() const noexcept { return len_; }
  // For APIs that fill the address in (accept, recvfrom): capacity in, length out.
  [[nodiscard]] socklen_t capacity() const noexcept { return sizeof(storage_); }
  [[nodiscard]] socklen_t* size_ptr() noexcept { return &len_; }

  [[nodiscard]] std::string to_string() const;  // "1.2.3.4:80", "[::1]:80", "unix:/path"
  [[nodiscard]] Text text() const noexcept;     // the same text, without allocating
  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  union Storage {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
    sockaddr_un un;
  } storage_;
  socklen_t len_;
};

}  // namespace zap::zio

template <>
struct std::is_error_code_enum<zap::zio::AddressError> : std::true_type {};
