#include "server_names.hpp"

#include <gtest/gtest.h>

namespace zap::app {
namespace {

TEST(ServerNames, AnExactNameWinsThenTheLongestWildcardElseTheFallback) {
  ServerNames names;
  names.add("*.example.com", 1);
  names.add("*.deep.example.com", 2);
  names.add("www.deep.example.com", 3);
  names.add("Other.Test", 4);
  EXPECT_EQ(names.find("a.example.com", 0), 1u);
  EXPECT_EQ(names.find("a.deep.example.com", 0), 2u);
  EXPECT_EQ(names.find("WWW.deep.example.COM", 0), 3u);
  EXPECT_EQ(names.find("other.test", 0), 4u);
  EXPECT_EQ(names.find("example.com", 9), 9u) << "a wildcard does not match its own suffix";
  EXPECT_EQ(names.find("", 9), 9u);
  EXPECT_EQ(names.find("xexample.com", 9), 9u);
  EXPECT_EQ(ServerNames().find("anything", 7), 7u);
}

TEST(ServerNames, PatternsAreLowercaseHostNamesOrAWildcardOverOne) {
  for (const char* good : {"example.com", "*.example.com", "a", "x-1.y", "*.c"}) {
    EXPECT_TRUE(is_server_name_pattern(good)) << good;
  }
  for (const char* bad :
       {"", "*.", "*", "Example.com", "a..b", ".a", "a.", "a.*.b", "*.*.a", "under_score", "a b"}) {
    EXPECT_FALSE(is_server_name_pattern(bad)) << bad;
  }
}

}  // namespace
}  // namespace zap::app
