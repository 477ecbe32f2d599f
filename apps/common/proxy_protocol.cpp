#include "proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace zap::app {

namespace {

constexpr char kV1Prefix[] = "PROXY ";
constexpr std::size_t kV1PrefixSize = sizeof(kV1Prefix) - 1;
constexpr std::size_t kV1MaxLine = 107;  // the spec's bound, CRLF included
constexpr char kV2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr std::size_t kV2SignatureSize = sizeof(kV2Signature) - 1;  // 12 (the NUL is part of it)
constexpr std::size_t kV2HeadSize = 16;
constexpr unsigned char kV2Local = 0x20;
constexpr unsigned char kV2Proxy = 0x21;
constexpr unsigned char kV2Unspec = 0x00;
constexpr unsigned char kV2Tcp4 = 0x11;
constexpr unsigned char kV2Tcp6 = 0x21;
constexpr std::size_t kV2Inet4Block = 12;  // source, destination (4 each), two ports
constexpr std::size_t kV2Inet6Block = 36;  // source, destination (16 each), two ports

// An endpoint reduced to what the header carries. IPv4-mapped IPv6 addresses (a dual-stack
// listener's IPv4 clients) count as IPv4 only when both endpoints are, so that a header never
// mixes families.
struct Endpoint {
  int family = AF_UNSPEC;
  unsigned char ip[16] = {};
  std::uint16_t port = 0;  // host order
};

Endpoint endpoint_of(const zio::SocketAddress& address) {
  Endpoint e;
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address.data());
    e.family = AF_INET;
    std::memcpy(e.ip, &v4->sin_addr, 4);
    e.port = ntohs(v4->sin_port);
  } else if (address.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address.data());
    e.family = AF_INET6;
    std::memcpy(e.ip, &v6->sin6_addr, 16);
    e.port = ntohs(v6->sin6_port);
  }
  return e;
}

bool is_v4_mapped(const Endpoint& e) {
  static constexpr unsigned char kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return e.family == AF_INET6 && std::memcmp(e.ip, kPrefix, sizeof kPrefix) == 0;
}

void unmap(Endpoint& e) {
  e.family = AF_INET;
  std::memmove(e.ip, e.ip + 12, 4);
}

void put_be16(char* out, std::uint16_t value) {
  out[0] = static_cast<char>(value >> 8);
  out[1] = static_cast<char>(value & 0xff);
}

std::uint16_t get_be16(const char* in) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(in[0]) << 8) |
                                    static_cast<unsigned char>(in[1]));
}

std::size_t write_v1(const Endpoint& source, const Endpoint& destination, char* out) {
  if (source.family == AF_UNSPEC) {
    static constexpr char kUnknown[] = "PROXY UNKNOWN\r\n";
    std::memcpy(out, kUnknown, sizeof(kUnknown) - 1);
    return sizeof(kUnknown) - 1;
  }
  char from[INET6_ADDRSTRLEN] = {};
  char to[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(source.family, source.ip, from, sizeof from);
  ::inet_ntop(destination.family, destination.ip, to, sizeof to);
  // At most 11 + 39 + 1 + 39 + 1 + 5 + 1 + 5 + 2 = 104 bytes: inet_ntop writes the long dotted
  // forms only for mapped and compatible addresses, which are short.
  char line[160];
  const int n = std::snprintf(line, sizeof line, "PROXY %s %s %s %u %u\r\n",
                              source.family == AF_INET ? "TCP4" : "TCP6", from, to,
                              unsigned{source.port}, unsigned{destination.port});
  const auto size = std::min<std::size_t>(static_cast<std::size_t>(n), kMaxProxyHeader);
  std::memcpy(out, line, size);
  return size;
}

std::size_t write_v2(const Endpoint& source, const Endpoint& destination, char* out) {
  std::memcpy(out, kV2Signature, kV2SignatureSize);
  out[12] = static_cast<char>(kV2Proxy);
  if (source.family == AF_UNSPEC) {
    out[13] = static_cast<char>(kV2Unspec);
    put_be16(out + 14, 0);
    return kV2HeadSize;
  }
  const std::size_t ip_size = source.family == AF_INET ? 4 : 16;
  out[13] = static_cast<char>(source.family == AF_INET ? kV2Tcp4 : kV2Tcp6);
  put_be16(out + 14, static_cast<std::uint16_t>(2 * ip_size + 4));
  char* p = out + kV2HeadSize;
  std::memcpy(p, source.ip, ip_size);
  std::memcpy(p + ip_size, destination.ip, ip_size);
  put_be16(p + 2 * ip_size, source.port);
  put_be16(p + 2 * ip_size + 2, destination.port);
  return kV2HeadSize + 2 * ip_size + 4;
}

ProxyHeader invalid(const char* reason) {
  ProxyHeader h;
  h.state = ProxyHeader::kInvalid;
  h.reason = reason;
  return h;
}

// A decimal port as v1 writes it: 0-65535, no sign, no leading zero.
bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

zio::SocketAddress make_address(int family, const void* ip, std::uint16_t port) {
  if (family == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, ip, 4);
    v4.sin_port = htons(port);
    return zio::SocketAddress::from_native(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  std::memcpy(&v6.sin6_addr, ip, 16);
  v6.sin6_port = htons(port);
  return zio::SocketAddress::from_native(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
}

// "PROXY TCP4 1.2.3.4 5.6.7.8 1234 80\r\n": single spaces, nothing else on the line.
ProxyHeader parse_v1(std::string_view input) {
  const std::size_t end = input.substr(0, kV1MaxLine).find("\r\n");
  if (end == std::string_view::npos) {
    if (input.size() >= kV1MaxLine) return invalid("v1 header longer than 107 bytes");
    // A lone CR or LF inside the line can never become valid.
    const std::string_view so_far = input.substr(0, input.size() - (input.back() == '\r'));
    if (so_far.find_first_of("\r\n") != std::string_view::npos) {
      return invalid("v1 header with a stray CR or LF");
    }
    return {};
  }
  std::string_view rest = input.substr(kV1PrefixSize, end - kV1PrefixSize);
  std::string_view fields[5];
  std::size_t count = 0;
  bool line_ended = false;  // the last field ran to the CRLF (not to a space)
  while (count < 5 && !line_ended) {
    const std::size_t space = rest.find(' ');
    fields[count++] = rest.substr(0, space);
    line_ended = space == std::string_view::npos;
    rest.remove_prefix(line_ended ? rest.size() : space + 1);
  }
  ProxyHeader h;
  h.version = ProxyProtocol::kV1;
  h.size = end + 2;
  if (count >= 1 && fields[0] == "UNKNOWN") {  // whatever follows is to be ignored
    h.state = ProxyHeader::kComplete;
    return h;
  }
  if (count != 5 || !line_ended) return invalid("v1 header without exactly 5 fields");
  int family;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return invalid("v1 header with a protocol other than TCP4, TCP6, UNKNOWN");
  }
  unsigned char ips[2][16] = {};
  for (int i = 0; i < 2; ++i) {
    char text[INET6_ADDRSTRLEN] = {};
    // (A NUL inside would end inet_pton's text early and let what follows it through.)
    if (fields[1 + i].size() >= sizeof text || fields[1 + i].find('\0') != std::string_view::npos) {
      return invalid("v1 header with a bad address");
    }
    std::memcpy(text, fields[1 + i].data(), fields[1 + i].size());
    if (::inet_pton(family, text, ips[i]) != 1) return invalid("v1 header with a bad address");
  }
  std::uint16_t ports[2] = {};
  if (!parse_port(fields[3], ports[0]) || !parse_port(fields[4], ports[1])) {
    return invalid("v1 header with a bad port");
  }
  h.source = make_address(family, ips[0], ports[0]);
  h.destination = make_address(family, ips[1], ports[1]);
  h.state = ProxyHeader::kComplete;
  return h;
}

ProxyHeader parse_v2(std::string_view input) {
  if (input.size() < kV2HeadSize) return {};
  const auto command = static_cast<unsigned char>(input[12]);
  const auto family = static_cast<unsigned char>(input[13]);
  const std::size_t length = get_be16(input.data() + 14);
  if ((command >> 4) != 2) return invalid("v2 header with a version other than 2");
  if (command != kV2Local && command != kV2Proxy) {
    return invalid("v2 header with an unknown command");
  }
  // Address family UNSPEC, INET, INET6, UNIX (high nibble) and protocol UNSPEC, STREAM, DGRAM
  // (low): anything else is unassigned, and the spec has receivers refuse it.
  if ((family >> 4) > 3 || (family & 0x0f) > 2) return invalid("v2 header with an unknown family");
  if (kV2HeadSize + length > kMaxParsedProxyHeader) return invalid("v2 header too long");
  if (input.size() < kV2HeadSize + length) return {};
  ProxyHeader h;
  h.version = ProxyProtocol::kV2;
  h.size = kV2HeadSize + length;
  h.state = ProxyHeader::kComplete;
  // LOCAL: the proxy's own connection; other families and protocols (UDP, Unix): nothing this
  // daemon can use. Both keep the connection's endpoints. TLVs after the addresses are skipped.
  if (command == kV2Local || (family != kV2Tcp4 && family != kV2Tcp6)) return h;
  const bool v4 = family == kV2Tcp4;
  const std::size_t ip_size = v4 ? 4 : 16;
  if (length < (v4 ? kV2Inet4Block : kV2Inet6Block)) {
    return invalid("v2 header shorter than its addresses");
  }
  const char* p = input.data() + kV2HeadSize;
  h.source = make_address(v4 ? AF_INET : AF_INET6, p, get_be16(p + 2 * ip_size));
  h.destination = make_address(v4 ? AF_INET : AF_INET6, p + ip_size, get_be16(p + 2 * ip_size + 2));
  return h;
}

}  // namespace

bool parse_proxy_protocol(std::string_view text, ProxyProtocol& out) {
  if (text == "off") {
    out = ProxyProtocol::kOff;
  } else if (text == "v1") {
    out = ProxyProtocol::kV1;
  } else if (text == "v2") {
    out = ProxyProtocol::kV2;
  } else {
    return false;
  }
  return true;
}

const char* to_string(ProxyProtocol version) {
  switch (version) {
    case ProxyProtocol::kV1:
      return "v1";
    case ProxyProtocol::kV2:
      return "v2";
    case ProxyProtocol::kOff:
      break;
  }
  return "off";
}

std::size_t write_proxy_header(ProxyProtocol version, const zio::SocketAddress& source,
                               const zio::SocketAddress& destination, char* out) {
  if (version == ProxyProtocol::kOff) return 0;
  Endpoint from = endpoint_of(source);
  Endpoint to = endpoint_of(destination);
  if (is_v4_mapped(from) && is_v4_mapped(to)) {
    unmap(from);
    unmap(to);
  }
  if (from.family != to.family) from.family = to.family = AF_UNSPEC;  // incl. Unix, unreadable
  return version == ProxyProtocol::kV1 ? write_v1(from, to, out) : write_v2(from, to, out);
}

std::size_t write_proxy_local_header(ProxyProtocol version, char* out) {
  if (version == ProxyProtocol::kOff) return 0;
  const std::size_t size = write_proxy_header(version, {}, {}, out);  // UNKNOWN / UNSPEC
  if (version == ProxyProtocol::kV2) out[12] = static_cast<char>(kV2Local);
  return size;
}

ProxyHeader parse_proxy_header(std::string_view input) {
  if (input.empty()) return {};
  if (input[0] == 'P') {
    const std::size_t n = std::min(input.size(), kV1PrefixSize);
    if (input.substr(0, n) != std::string_view(kV1Prefix, n)) return invalid("not a PROXY header");
    return n < kV1PrefixSize ? ProxyHeader{} : parse_v1(input);
  }
  const std::size_t n = std::min(input.size(), kV2SignatureSize);
  if (input.substr(0, n) != std::string_view(kV2Signature, n)) return invalid("not a PROXY header");
  return parse_v2(input);
}

}  // namespace zap::app
