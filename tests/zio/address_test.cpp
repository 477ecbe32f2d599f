#include "zap/zio/address.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>

namespace zap::zio {
namespace {

SocketAddress parse_ok(std::string_view text) {
  std::error_code ec;
  auto a = SocketAddress::parse(text, ec);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return a;
}

std::error_code parse_error(std::string_view text) {
  std::error_code ec;
  auto a = SocketAddress::parse(text, ec);
  EXPECT_TRUE(a.empty()) << text;
  return ec;
}

TEST(SocketAddress, ParsesAndPrintsIpv4) {
  auto a = parse_ok("127.0.0.1:80");
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.port(), 80);
  EXPECT_EQ(a.to_string(), "127.0.0.1:80");
  EXPECT_EQ(parse_ok("0.0.0.0:0").to_string(), "0.0.0.0:0");
  EXPECT_EQ(parse_ok("10.1.2.3:65535").port(), 65535);
}

TEST(SocketAddress, ParsesAndPrintsIpv6) {
  auto a = parse_ok("[::1]:8080");
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.port(), 8080);
  EXPECT_EQ(a.to_string(), "[::1]:8080");
  EXPECT_EQ(parse_ok("[2001:db8::1]:443").to_string(), "[2001:db8::1]:443");
  EXPECT_EQ(parse_ok("[fe80::1%1]:9").to_string(), "[fe80::1%1]:9");
  EXPECT_EQ(a, SocketAddress::ipv6_loopback(8080));
}

TEST(SocketAddress, ParsesAndPrintsUnixPaths) {
  EXPECT_EQ(parse_ok("unix:/run/zap.sock").to_string(), "unix:/run/zap.sock");
  EXPECT_EQ(parse_ok("/tmp/x.sock").family(), AF_UNIX);
  EXPECT_EQ(parse_ok("/tmp/x.sock").to_string(), "unix:/tmp/x.sock");
  EXPECT_EQ(parse_ok("./rel.sock").to_string(), "unix:./rel.sock");
  EXPECT_EQ(parse_ok("unix:@abstract").to_string(), "unix:@abstract");
}

// text() is to_string() without the allocation, up to the longest address there is.
TEST(SocketAddress, TextMatchesToStringForEveryFormUpToTheLongest) {
  for (const std::string& text :
       {std::string("255.255.255.255:65535"),
        std::string("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"),
        std::string("[::ffff:255.255.255.255]:1"), std::string("unix:/run/zap.sock"),
        "unix:/" + std::string(106, 'p'),  // 107 bytes and the NUL
        "unix:@" + std::string(106, 'a')}) {
    const SocketAddress a = parse_ok(text);
    EXPECT_EQ(a.text().view(), a.to_string());
    EXPECT_EQ(a.text().view(), text);
  }
  EXPECT_EQ(SocketAddress().text().view(), "<unspecified>");

  // From the kernel: an abstract name may fill all of sun_path after its NUL (107 bytes), and a
  // connecting client's peer is unnamed (the family alone).
  sockaddr_un native{};
  native.sun_family = AF_UNIX;
  std::fill(native.sun_path + 1, std::end(native.sun_path), 'a');
  const auto* sa = reinterpret_cast<const sockaddr*>(&native);
  const SocketAddress abstract = SocketAddress::from_native(sa, sizeof(native));
  EXPECT_EQ(abstract.text().view(), "unix:@" + std::string(107, 'a'));
  EXPECT_EQ(abstract.text().view(), abstract.to_string());
  EXPECT_EQ(SocketAddress::from_native(sa, sizeof(sa_family_t)).text().view(), "unix:");
}

TEST(SocketAddress, RejectsMalformedTextWithSpecificErrors) {
  EXPECT_EQ(parse_error(""), AddressError::empty);
  EXPECT_EQ(parse_error("127.0.0.1"), AddressError::missing_port);
  EXPECT_EQ(parse_error("127.0.0.1:"), AddressError::missing_port);
  EXPECT_EQ(parse_error("[::1]"), AddressError::missing_port);
  EXPECT_EQ(parse_error("127.0.0.1:65536"), AddressError::port_out_of_range);
  EXPECT_EQ(parse_error("127.0.0.1:99999999999"), AddressError::port_out_of_range);
  EXPECT_EQ(parse_error("127.0.0.1:8o"), AddressError::bad_port);
  EXPECT_EQ(parse_error("127.0.0.1:-1"), AddressError::bad_port);
  EXPECT_EQ(parse_error("256.0.0.1:80"), AddressError::bad_ip);
  EXPECT_EQ(parse_error("localhost:80"), AddressError::bad_ip);  // numeric only: no resolver
  EXPECT_EQ(parse_error("::1:80"), AddressError::bad_ip);        // IPv6 needs brackets
  EXPECT_EQ(parse_error("[::g]:80"), AddressError::bad_ip);
  EXPECT_EQ(parse_error("[::1:80"), AddressError::bad_ip);
  EXPECT_EQ(parse_error(std::string("127.0.0.1\0x:80", 13)), AddressError::nul_inside);
  EXPECT_EQ(parse_error(std::string("[::1\0x]:80", 11)), AddressError::nul_inside);
  EXPECT_EQ(parse_error(std::string("/tmp/a\0b", 8)), AddressError::nul_inside);
  EXPECT_EQ(parse_error("unix:"), AddressError::empty);
  EXPECT_EQ(parse_error("unix:/" + std::string(200, 'x')), AddressError::path_too_long);
  EXPECT_EQ(parse_error("localhost:80").message(), "not a numeric IPv4 or [IPv6] address");
  EXPECT_STREQ(parse_error("1.2.3.4:70000").category().name(), "zap.zio.address");
}

TEST(SocketAddress, SetPortAndCompare) {
  auto a = SocketAddress::ipv4_loopback(1);
  a.set_port(443);
  EXPECT_EQ(a.to_string(), "127.0.0.1:443");
  EXPECT_EQ(a, parse_ok("127.0.0.1:443"));
  EXPECT_FALSE(a == parse_ok("127.0.0.1:444"));
}

}  // namespace
}  // namespace zap::zio
