#include "virtual_hosts.hpp"

#include <gtest/gtest.h>

namespace zap::http {
namespace {

SiteSettings named(std::vector<std::string> names) {
  SiteSettings site;
  site.names = std::move(names);
  return site;
}

TEST(VirtualHosts, MatchesNamesWithoutPortCaseOrTrailingDot) {
  const VirtualHosts hosts({named({"a.test", "www.a.test"}), named({"*.b.test"}), named({"c"})});
  // (Values that reach it have passed parse_request_head's host[:port] check.)
  EXPECT_EQ(hosts.site_for("a.test"), 1u);
  EXPECT_EQ(hosts.site_for("WWW.A.TEST:443"), 1u);
  EXPECT_EQ(hosts.site_for("a.test."), 1u);
  EXPECT_EQ(hosts.site_for("x.b.test"), 2u);
  EXPECT_EQ(hosts.site_for("y.x.B.test:1"), 2u);
  EXPECT_EQ(hosts.site_for("c"), 3u);
  for (const char* none :
       {"", "b.test", "xb.test", "a.test.x", "aa.test", "[::1]:80", "127.0.0.1", ":80", "."}) {
    EXPECT_EQ(hosts.site_for(none), 0u) << none;
  }
}

TEST(VirtualHosts, AnExactNameWinsThenTheLongestWildcard) {
  const VirtualHosts hosts(
      {named({"*.test"}), named({"*.x.test"}), named({"a.x.test"}), named({"*.y.x.test"})});
  EXPECT_EQ(hosts.site_for("a.x.test"), 3u) << "exact, though listed after a wildcard";
  EXPECT_EQ(hosts.site_for("b.x.test"), 2u);
  EXPECT_EQ(hosts.site_for("c.y.x.test"), 4u);
  EXPECT_EQ(hosts.site_for("z.test"), 1u);
  EXPECT_EQ(VirtualHosts({}).site_for("anything"), 0u);
}

}  // namespace
}  // namespace zap::http
