// client_hello(): the first bytes a TLS client sends -- one handshake record holding a ClientHello
// with a server_name extension (none if the name is empty) and, for size, a padding extension of
// `padding` bytes; `grease_first` puts an empty GREASE extension (RFC 8701) before them, as
// browsers do. Enough of TLS for tests of SNI routing; no TLS library needed.
#pragma once

#include <cstddef>
#include <string>

namespace zap::tls_test {

inline std::string client_hello(const std::string& server_name, std::size_t padding = 0,
                                bool grease_first = false) {
  auto be = [](std::string& out, std::size_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  };
  std::string extensions;
  if (grease_first) {
    be(extensions, 0x0a0a, 2);
    be(extensions, 0, 2);
  }
  if (!server_name.empty()) {
    std::string list;
    be(list, 0, 1);  // host_name
    be(list, server_name.size(), 2);
    list += server_name;
    be(extensions, 0, 2);  // server_name
    be(extensions, list.size() + 2, 2);
    be(extensions, list.size(), 2);
    extensions += list;
  }
  if (padding > 0) {
    be(extensions, 21, 2);  // padding (RFC 7685)
    be(extensions, padding, 2);
    extensions.append(padding, '\0');
  }
  std::string hello;
  be(hello, 0x0303, 2);   // legacy_version: TLS 1.2
  hello.append(32, 'r');  // random
  be(hello, 0, 1);        // legacy_session_id: empty
  be(hello, 2, 2);        // cipher_suites: one
  be(hello, 0x1301, 2);   //   TLS_AES_128_GCM_SHA256
  be(hello, 1, 1);        // legacy_compression_methods: one
  be(hello, 0, 1);        //   null
  be(hello, extensions.size(), 2);
  hello += extensions;
  std::string handshake;
  be(handshake, 1, 1);  // client_hello
  be(handshake, hello.size(), 3);
  handshake += hello;
  std::string record;
  be(record, 22, 1);      // handshake
  be(record, 0x0301, 2);  // record version, as clients send it
  be(record, handshake.size(), 2);
  return record + handshake;
}

}  // namespace zap::tls_test
