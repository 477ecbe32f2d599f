#include "validators.hpp"

#include <gtest/gtest.h>

namespace zap::http {
namespace {

constexpr std::int64_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(Etag, ChangesWithNanosecondsAndSize) {
  char a[kMaxEtagSize], b[kMaxEtagSize], c[kMaxEtagSize];
  const std::string_view ta = format_etag({kMtime, 1}, 42, a);
  const std::string_view tb = format_etag({kMtime, 2}, 42, b);
  const std::string_view tc = format_etag({kMtime, 1}, 43, c);
  EXPECT_EQ(ta.front(), '"');
  EXPECT_EQ(ta.back(), '"');
  EXPECT_NE(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(NotModified, IfNoneMatchUsesWeakComparisonAndStar) {
  EXPECT_TRUE(not_modified("\"x\"", "", "\"x\"", kMtime));
  EXPECT_TRUE(not_modified("W/\"x\"", "", "\"x\"", kMtime));
  EXPECT_TRUE(not_modified("\"a\", \"x\"", "", "\"x\"", kMtime));
  EXPECT_TRUE(not_modified("*", "", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("\"y\"", "", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("x", "", "\"x\"", kMtime)) << "unquoted is not an entity-tag";
}

TEST(NotModified, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  EXPECT_FALSE(not_modified("\"y\"", "Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", kMtime));
}

TEST(NotModified, IfModifiedSinceComparesSeconds) {
  EXPECT_TRUE(not_modified("", "Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", kMtime));
  EXPECT_TRUE(not_modified("", "Sun, 06 Nov 1994 08:49:38 GMT", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("", "Sun, 06 Nov 1994 08:49:36 GMT", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("", "garbage", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("", "", "\"x\"", kMtime));
}

TEST(RangeApplies, OnlyForAStrongMatchOrTheExactDate) {
  EXPECT_TRUE(range_applies("", "\"x\"", kMtime));
  EXPECT_TRUE(range_applies("\"x\"", "\"x\"", kMtime));
  EXPECT_FALSE(range_applies("W/\"x\"", "\"x\"", kMtime));
  EXPECT_FALSE(range_applies("\"y\"", "\"x\"", kMtime));
  EXPECT_TRUE(range_applies("Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", kMtime));
  EXPECT_FALSE(range_applies("Sun, 06 Nov 1994 08:49:38 GMT", "\"x\"", kMtime));
}

}  // namespace
}  // namespace zap::http
