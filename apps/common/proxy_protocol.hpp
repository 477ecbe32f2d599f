// The PROXY protocol (HAProxy's, versions 1 and 2): the header a proxy sends first on a
// connection to a backend, so that the backend learns who the client really is. zap-proxy writes
// it ("send_proxy"); zap-http reads it on the listeners that expect it ("proxy_protocol").
//
//   char header[kMaxProxyHeader];
//   std::size_t n = write_proxy_header(ProxyProtocol::kV2, client, client_connected_to, header);
//   ... send header[0, n) before the client's bytes ...
//
//   ProxyHeader h = parse_proxy_header(received);       // at the start of the connection
//   if (h.state == ProxyHeader::kIncomplete) ... receive more ...
//   if (h.state == ProxyHeader::kInvalid) ... close: not a PROXY header (h.reason says why) ...
//   client = h.source.empty() ? socket_peer : h.source;  // then received.substr(h.size) is data
//
// Both versions, strictly as specified (haproxy.org/download/2.x/doc/proxy-protocol.txt): v1 is
// one text line of at most 107 bytes; v2 a 16-byte binary head and its payload, whose TLVs are
// skipped. A header that names no address -- v1 "UNKNOWN", v2 LOCAL (a proxy's own connection,
// such as a health check) or a family other than TCP over IPv4/IPv6 -- parses with empty
// addresses: the connection's own endpoints stand. Pure functions, so that malformed input is
// tested (and fuzzed) without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <zap/zio/address.hpp>

namespace zap::app {

enum class ProxyProtocol : std::uint8_t { kOff, kV1, kV2 };

// "off", "v1", "v2"; false for anything else.
bool parse_proxy_protocol(std::string_view text, ProxyProtocol& out);
const char* to_string(ProxyProtocol version);

// The largest header write_proxy_header produces (v1's limit; v2 with IPv6 is 52 bytes).
inline constexpr std::size_t kMaxProxyHeader = 107;
// The largest header parse_proxy_header accepts: a v2 payload of up to 64 KiB would need a buffer
// that size per connection; 16 + 512 holds the addresses and any TLVs a proxy sends in practice.
inline constexpr std::size_t kMaxParsedProxyHeader = 16 + 512;

// Writes the header for a client at `source` that connected to `destination` into `out` (room for
// kMaxProxyHeader bytes) and returns its size. Both IPv4, or both IPv6 (both IPv4-mapped are
// written as IPv4): TCP4 / TCP6; anything else (a Unix socket, an address that could not be
// read): v1 "UNKNOWN", v2 the PROXY command with family UNSPEC. kOff writes nothing.
std::size_t write_proxy_header(ProxyProtocol version, const zio::SocketAddress& source,
                               const zio::SocketAddress& destination, char* out);

// The header of a connection the proxy makes for itself (a health check): v1 "PROXY UNKNOWN", v2
// the LOCAL command. The backend keeps the connection's own endpoints. Returns its size.
std::size_t write_proxy_local_header(ProxyProtocol version, char* out);

struct ProxyHeader {
  enum State : std::uint8_t { kIncomplete, kInvalid, kComplete };
  State state = kIncomplete;
  std::size_t size = 0;  // kComplete: the header's bytes at the start of the input
  ProxyProtocol version = ProxyProtocol::kOff;
  zio::SocketAddress source;       // kComplete: the client; empty if the header names none
  zio::SocketAddress destination;  // kComplete: where it connected; empty with `source`
  const char* reason = "";         // kInvalid: what is wrong, for a log line
};

// Parses the header at the start of `input`. kIncomplete: everything so far is a valid beginning
// of a header (receive more and parse again); kInvalid: it is not one (close the connection: the
// peer is not the expected proxy, or it is broken).
ProxyHeader parse_proxy_header(std::string_view input);

}  // namespace zap::app
