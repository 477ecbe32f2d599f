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

// What `openssl s_client -servername real.example.com` (OpenSSL 3.0, TLS 1.3) sent: a real
// client's extension order, key shares and all, the name in the middle.
TEST(ClientHelloSni, ReadsARealClientsHello) {
  const char* hex =
      "160301013d0100013903039f458d20cb050bc68a96b1d3768faa15854fdb45b8046162be04ed1da99271ae209fce"
      "a146"
      "4ff2de34fdc06b30bffb45701da5eb30134a4594233260ffe147e906003e130213031301c02cc030009fcca9cca8"
      "ccaa"
      "c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100"
      "00b2"
      "0000001500130000107265616c2e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e00"
      "1900"
      "1801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b08"
      "0408"
      "050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024"
      "001d"
      "002061790bee5fe08d2b751a016f972c2b91c15204ca9103443ff440e4b073592443";
  std::string hello;
  for (const char* p = hex; p[0] != '\0'; p += 2) {
    hello += static_cast<char>(std::stoi(std::string(p, 2), nullptr, 16));
  }
  ASSERT_EQ(hello.size(), 322u);
  const ClientHelloSni sni = find_client_hello_sni(hello);
  ASSERT_EQ(sni.state, ClientHelloSni::kFound);
  EXPECT_EQ(sni.name, "real.example.com");
  EXPECT_EQ(find_client_hello_sni(std::string_view(hello).substr(0, 321)).state,
            ClientHelloSni::kNeedMore);
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
  // The name behind other extensions (a GREASE value first, as browsers send) is found too.
  const std::string greased = client_hello("b.example", 0, /*grease_first=*/true);
  EXPECT_EQ(find_client_hello_sni(greased).name, "b.example");
  std::string split = good;
  split[8] = static_cast<char>(split[8] + 1);  // the handshake's length, one more than is there
  EXPECT_EQ(find_client_hello_sni(split).state, ClientHelloSni::kNone);
}

}  // namespace
}  // namespace zap::app
