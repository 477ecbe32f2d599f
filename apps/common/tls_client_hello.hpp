// The server name a TLS client asks for (SNI, RFC 6066), read from the first bytes of its
// connection without decrypting anything: what a TCP proxy needs to route TLS by name and pass
// the connection on untouched (HAProxy's req.ssl_sni, nginx's ssl_preread).
//
//   ClientHelloSni sni = find_client_hello_sni(received);
//   if (sni.state == ClientHelloSni::kNeedMore) ... receive more (sni.need bytes in all) ...
//   if (sni.state == ClientHelloSni::kFound) route_by(sni.name);   // else: the default route
//
// Reads the first TLS record (a handshake record of at most 2^14 bytes, SSL 3.0 to TLS 1.3 record
// versions) and the ClientHello in it, with every length checked against its container. A
// ClientHello split over several records (which real clients do not send), anything that is not
// a ClientHello, or a name that is not a DNS host name (1-253 of letters, digits, '-', '.'; no
// empty label) gives kNone: the caller routes such a connection to its default. A pure function,
// so that malformed input is tested (and fuzzed) without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zap::app {

// The most bytes find_client_hello_sni may ask for: a record header and a maximal record.
inline constexpr std::size_t kMaxClientHelloRecord = 5 + 16384;

struct ClientHelloSni {
  enum State : std::uint8_t { kNeedMore, kFound, kNone };
  State state = kNone;
  std::size_t need = 0;   // kNeedMore: the bytes the input must hold (<= kMaxClientHelloRecord)
  std::string_view name;  // kFound: the host name, as sent (case not folded), into the input
};

ClientHelloSni find_client_hello_sni(std::string_view bytes);

}  // namespace zap::app
