#include "proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace zap::app {
namespace {

zio::SocketAddress address(const char* text) {
  std::error_code ec;
  zio::SocketAddress a = zio::SocketAddress::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return a;
}

std::string header(ProxyProtocol version, const char* source, const char* destination) {
  char out[kMaxProxyHeader];
  const std::size_t n = write_proxy_header(version, address(source), address(destination), out);
  return {out, n};
}

TEST(ProxyProtocol, WritesV1Lines) {
  EXPECT_EQ(header(ProxyProtocol::kV1, "192.0.2.1:56324", "10.0.0.1:443"),
            "PROXY TCP4 192.0.2.1 10.0.0.1 56324 443\r\n");
  EXPECT_EQ(header(ProxyProtocol::kV1, "[2001:db8::1]:1", "[::1]:80"),
            "PROXY TCP6 2001:db8::1 ::1 1 80\r\n");
  // A dual-stack listener's IPv4 client: written as IPv4.
  EXPECT_EQ(header(ProxyProtocol::kV1, "[::ffff:192.0.2.1]:5", "[::ffff:10.0.0.1]:80"),
            "PROXY TCP4 192.0.2.1 10.0.0.1 5 80\r\n");
  EXPECT_EQ(header(ProxyProtocol::kV1, "unix:/run/a.sock", "unix:/run/b.sock"),
            "PROXY UNKNOWN\r\n");
  EXPECT_EQ(header(ProxyProtocol::kOff, "192.0.2.1:1", "10.0.0.1:2"), "");
}

TEST(ProxyProtocol, TheLongestV1LineFits) {
  const std::string longest =
      header(ProxyProtocol::kV1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535",
             "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  EXPECT_EQ(longest.size(), 104u);
  EXPECT_EQ(parse_proxy_header(longest).state, ProxyHeader::kComplete);
}

TEST(ProxyProtocol, WritesV2Headers) {
  const std::string v4 = header(ProxyProtocol::kV2, "192.0.2.1:56324", "10.0.0.1:443");
  ASSERT_EQ(v4.size(), 28u);
  EXPECT_EQ(v4.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
  EXPECT_EQ(v4.substr(12, 4), std::string("\x21\x11\x00\x0c", 4));
  EXPECT_EQ(v4.substr(16), std::string("\xc0\x00\x02\x01\x0a\x00\x00\x01\xdc\x04\x01\xbb", 12));
  EXPECT_EQ(header(ProxyProtocol::kV2, "[::1]:1", "[::1]:2").size(), 52u);
  const std::string unknown = header(ProxyProtocol::kV2, "unix:/a", "unix:/b");
  EXPECT_EQ(unknown.substr(12), std::string("\x21\x00\x00\x00", 4));
}

TEST(ProxyProtocol, WhatIsWrittenParsesBack) {
  for (const ProxyProtocol version : {ProxyProtocol::kV1, ProxyProtocol::kV2}) {
    for (const auto& [source, destination] : {std::pair{"192.0.2.1:56324", "10.0.0.1:443"},
                                              std::pair{"[2001:db8::7]:0", "[::]:65535"}}) {
      const std::string bytes = header(version, source, destination) + "GET / HTTP/1.1\r\n";
      const ProxyHeader h = parse_proxy_header(bytes);
      ASSERT_EQ(h.state, ProxyHeader::kComplete) << h.reason;
      EXPECT_EQ(h.version, version);
      EXPECT_EQ(h.source, address(source));
      EXPECT_EQ(h.destination, address(destination));
      EXPECT_EQ(bytes.substr(h.size), "GET / HTTP/1.1\r\n");
    }
  }
}

TEST(ProxyProtocol, LocalHeadersNameNoClient) {
  char out[kMaxProxyHeader];
  EXPECT_EQ(std::string(out, write_proxy_local_header(ProxyProtocol::kV1, out)),
            "PROXY UNKNOWN\r\n");
  const std::string v2(out, write_proxy_local_header(ProxyProtocol::kV2, out));
  EXPECT_EQ(v2, std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16));
  const ProxyHeader h = parse_proxy_header(v2);
  EXPECT_EQ(h.state, ProxyHeader::kComplete);
  EXPECT_TRUE(h.source.empty());
  EXPECT_EQ(write_proxy_local_header(ProxyProtocol::kOff, out), 0u);
}

TEST(ProxyProtocol, EveryPrefixOfAHeaderIsIncomplete) {
  for (const ProxyProtocol version : {ProxyProtocol::kV1, ProxyProtocol::kV2}) {
    const std::string whole = header(version, "[2001:db8::1]:1", "[2001:db8::2]:2");
    for (std::size_t n = 0; n < whole.size(); ++n) {
      EXPECT_EQ(parse_proxy_header(whole.substr(0, n)).state, ProxyHeader::kIncomplete)
          << to_string(version) << " " << n;
    }
    EXPECT_EQ(parse_proxy_header(whole).state, ProxyHeader::kComplete);
  }
}

TEST(ProxyProtocol, UnknownAndLocalKeepTheConnectionsEndpoints) {
  const ProxyHeader unknown = parse_proxy_header("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nrest");
  ASSERT_EQ(unknown.state, ProxyHeader::kComplete);
  EXPECT_TRUE(unknown.source.empty());
  EXPECT_EQ(unknown.size, 35u);
  // LOCAL (a health check), with an address block that must be skipped all the same.
  std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x11\x00\x0c", 16);
  local += std::string(12, '\x01') + "data";
  const ProxyHeader h = parse_proxy_header(local);
  ASSERT_EQ(h.state, ProxyHeader::kComplete);
  EXPECT_TRUE(h.source.empty());
  EXPECT_EQ(h.size, 28u);
  // UDP over IPv4: parsed, not used.
  std::string udp("\r\n\r\n\0\r\nQUIT\n\x21\x12\x00\x0c", 16);
  udp += std::string(12, '\x01');
  EXPECT_EQ(parse_proxy_header(udp).state, ProxyHeader::kComplete);
  EXPECT_TRUE(parse_proxy_header(udp).source.empty());
}

TEST(ProxyProtocol, V2SkipsTlvsAfterTheAddresses) {
  std::string with_tlv("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x11", 16);
  with_tlv += std::string("\x7f\x00\x00\x01\x7f\x00\x00\x02\x00\x50\x01\xbb", 12);
  with_tlv += std::string("\x04\x00\x02hi", 5);  // a NOOP TLV
  with_tlv += "GET";
  const ProxyHeader h = parse_proxy_header(with_tlv);
  ASSERT_EQ(h.state, ProxyHeader::kComplete);
  EXPECT_EQ(h.size, 33u);
  EXPECT_EQ(h.source, address("127.0.0.1:80"));
  EXPECT_EQ(h.destination, address("127.0.0.2:443"));
}

TEST(ProxyProtocol, RefusesWhatIsNotAHeader) {
  const std::string v2_head("\r\n\r\n\0\r\nQUIT\n", 12);
  for (const std::string& bad : {
           std::string("GET / HTTP/1.1\r\n\r\n"),
           std::string("PROXY"),  // (incomplete, checked below) then:
           std::string("PROXZ TCP4"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
           std::string("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
           std::string("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
           std::string("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"),
           std::string("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"),
           std::string("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
           std::string("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2"),
           std::string("PROXY ") + std::string(120, 'x'),
           v2_head + std::string("\x11\x11\x00\x0c", 4),                         // version 1
           v2_head + std::string("\x22\x11\x00\x0c", 4),                         // command 2
           v2_head + std::string("\x21\x11\x00\x08", 4) + std::string(8, '\0'),  // short block
           v2_head + std::string("\x21\x21\x00\x20", 4) + std::string(32, '\0'),
           v2_head + std::string("\x21\x11\x02\x01", 4),  // longer than accepted
           v2_head + std::string("\x21\x41\x00\x00", 4),  // family 4: unassigned
           v2_head + std::string("\x21\x13\x00\x00", 4),  // protocol 3: unassigned
           std::string("PROXY TCP4 1.2.3.4\0junk 5.6.7.8 1 2\r\n", 37),
           std::string("\r\n\r\n\0\r\nQUIX\n", 12),
       }) {
    const ProxyHeader h = parse_proxy_header(bad);
    if (bad == "PROXY") {
      EXPECT_EQ(h.state, ProxyHeader::kIncomplete);
      continue;
    }
    EXPECT_EQ(h.state, ProxyHeader::kInvalid) << bad;
    EXPECT_STRNE(h.reason, "");
  }
}

TEST(ProxyProtocol, SizeLimitsAreExact) {
  // v1: a line of 107 bytes with its CRLF is the most; 108 is refused, whatever it holds.
  const std::string v1_107 = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(v1_107.size(), 107u);
  EXPECT_EQ(parse_proxy_header(v1_107).state, ProxyHeader::kComplete);
  const std::string v1_108 = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  EXPECT_EQ(parse_proxy_header(v1_108).state, ProxyHeader::kInvalid);
  EXPECT_EQ(parse_proxy_header(v1_108.substr(0, 107)).state, ProxyHeader::kInvalid);
  EXPECT_EQ(parse_proxy_header(v1_108.substr(0, 106)).state, ProxyHeader::kIncomplete);
  // v2: 16 + 512 bytes (addresses and TLVs) is the most accepted.
  auto v2 = [](std::size_t payload) {
    std::string h("\r\n\r\n\0\r\nQUIT\n\x21\x11", 14);
    h += static_cast<char>(payload >> 8);
    h += static_cast<char>(payload & 0xff);
    return h + std::string(payload, '\x01');
  };
  EXPECT_EQ(parse_proxy_header(v2(512)).state, ProxyHeader::kComplete);
  EXPECT_EQ(parse_proxy_header(v2(512)).size, kMaxParsedProxyHeader);
  EXPECT_EQ(parse_proxy_header(v2(513)).state, ProxyHeader::kInvalid);
  EXPECT_EQ(parse_proxy_header(v2(513).substr(0, 16)).state, ProxyHeader::kInvalid);
}

TEST(ProxyProtocol, ParsesSettingNames) {
  ProxyProtocol v = ProxyProtocol::kOff;
  EXPECT_TRUE(parse_proxy_protocol("v2", v));
  EXPECT_EQ(v, ProxyProtocol::kV2);
  EXPECT_TRUE(parse_proxy_protocol("v1", v));
  EXPECT_EQ(v, ProxyProtocol::kV1);
  EXPECT_TRUE(parse_proxy_protocol("off", v));
  EXPECT_EQ(v, ProxyProtocol::kOff);
  EXPECT_FALSE(parse_proxy_protocol("V1", v));
  EXPECT_FALSE(parse_proxy_protocol("", v));
  EXPECT_STREQ(to_string(ProxyProtocol::kV2), "v2");
}

}  // namespace
}  // namespace zap::app
