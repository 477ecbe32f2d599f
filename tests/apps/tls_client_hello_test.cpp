#include "tls_client_hello.hpp"

#include <gtest/gtest.h>

#include <string>

#include "client_hello.hpp"

namespace zap::app {
namespace {

using tls_test::client_hello;

TEST(ClientHelloSni, FindsTheServerNameOnceTheWholeRecordIsThere) {
  const std::string hello = client_hello("www.Example.com", 700);
  for (std::size_t have = 0; have < hello.size(); ++have) {
    const ClientHelloSni sni = find_client_hello_sni(std::string_view(hello).substr(0, have));
    ASSERT_EQ(sni.state, ClientHelloSni::kNeedMore) << have;
    EXPECT_EQ(sni.need, have < 5 ? 5 : hello.size()) << have;
  }
  const std::string with_more = hello + "application data behind it";
  const ClientHelloSni sni = find_client_hello_sni(with_more);  // (a view into with_more)
  ASSERT_EQ(sni.state, ClientHelloSni::kFound);
  EXPECT_EQ(sni.name, "www.Example.com");
}

TEST(ClientHelloSni, AnythingElseIsNoneAtOnce) {
  EXPECT_EQ(find_client_hello_sni("GET / HTTP/1.1\r\n").state, ClientHelloSni::kNone);
  EXPECT_EQ(find_client_hello_sni("G").state, ClientHelloSni::kNone) << "decided by one byte";
  EXPECT_EQ(find_client_hello_sni("\x16\x02").state, ClientHelloSni::kNone) << "SSL 2";
  EXPECT_EQ(find_client_hello_sni(client_hello("")).state, ClientHelloSni::kNone) << "no SNI";
  EXPECT_EQ(find_client_hello_sni(std::string("\x16\x03\x01\x00\x00", 5)).state,
            ClientHelloSni::kNone)
      << "an empty record";
  EXPECT_EQ(find_client_hello_sni(std::string("\x16\x03\x01\x40\x01", 5)).state,
            ClientHelloSni::kNone)
      << "longer than TLS allows";
}

TEST(ClientHelloSni, MalformedLengthsAndNamesAreNone) {
  for (const char* bad : {"a..b", "trailing.", "under_score", "sp ace", "\xc3\xa9t\xc3\xa9"}) {
    EXPECT_EQ(find_client_hello_sni(client_hello(bad)).state, ClientHelloSni::kNone) << bad;
  }
  EXPECT_EQ(find_client_hello_sni(client_hello(std::string(254, 'a'))).state,
            ClientHelloSni::kNone);
  EXPECT_EQ(find_client_hello_sni(client_hello(std::string(253, 'a'))).state,
            ClientHelloSni::kFound);
  // Every single-byte change past the record header either still parses or is refused: never
  // a name outside the input. And a handshake longer than its record (split over records) is none.
  const std::string good = client_hello("a.example", 40);
  for (std::size_t i = 5; i < good.size(); ++i) {
    for (const unsigned char value : {0x00, 0x01, 0x7f, 0xff}) {
      std::string mutated = good;
      mutated[i] = static_cast<char>(value);
      const ClientHelloSni sni = find_client_hello_sni(mutated);
      if (sni.state == ClientHelloSni::kFound) {
        ASSERT_GE(sni.name.data(), mutated.data());
        ASSERT_LE(sni.name.data() + sni.name.size(), mutated.data() + mutated.size());
      }
    }
  }
  std::string split = good;
  split[8] = static_cast<char>(split[8] + 1);  // the handshake's length, one more than is there
  EXPECT_EQ(find_client_hello_sni(split).state, ClientHelloSni::kNone);
}

}  // namespace
}  // namespace zap::app
