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

TEST(NotModified, IfNoneMatchReadsEveryLine) {
  FieldLines lines;
  lines.add("\"a\", \"b\"");
  lines.add("\"x\"");
  EXPECT_TRUE(not_modified(lines, "", "\"x\"", kMtime)) << "the tag on the second line counts";
  EXPECT_FALSE(not_modified(lines, "", "\"y\"", kMtime));
  FieldLines star;
  star.add("\"a\"");
  star.add("*");
  EXPECT_FALSE(not_modified(star, "", "\"x\"", kMtime)) << "\"*\" is the wildcard only alone";
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

TEST(NotModified, AnIfModifiedSinceLaterThanNowIsIgnored) {
  // (RFC 9110 13.1.3: such a date is invalid.) Else a file dated in the future, and every fix of
  // it until that date, would be "not modified" for the client that sent it.
  EXPECT_FALSE(not_modified("", "Fri, 31 Dec 2100 23:59:59 GMT", "\"x\"", kMtime));
  EXPECT_FALSE(not_modified("", "Fri, 31 Dec 2100 23:59:59 GMT", "\"x\"", 4'000'000'000));
}

TEST(PreconditionFailed, IfMatchNeedsAStrongMatchOrStar) {
  EXPECT_FALSE(precondition_failed("", "", "\"x\"", kMtime));
  EXPECT_FALSE(precondition_failed("\"x\"", "", "\"x\"", kMtime));
  EXPECT_FALSE(precondition_failed("\"a\", \"x\"", "", "\"x\"", kMtime));
  EXPECT_FALSE(precondition_failed("*", "", "\"x\"", kMtime));
  EXPECT_TRUE(precondition_failed("\"y\"", "", "\"x\"", kMtime));
  EXPECT_TRUE(precondition_failed("W/\"x\"", "", "\"x\"", kMtime)) << "weak never matches";
  EXPECT_TRUE(precondition_failed("x", "", "\"x\"", kMtime)) << "unquoted is not an entity-tag";
  EXPECT_TRUE(precondition_failed("\"stale\", *", "", "\"x\"", kMtime))
      << "\"*\" in a list is no wildcard (RFC 9110 13.1.1)";
}

TEST(PreconditionFailed, IfMatchReadsEveryLine) {
  FieldLines lines;
  lines.add("\"a\"");
  lines.add("\"x\"");
  EXPECT_FALSE(precondition_failed(lines, "", "\"x\"", kMtime));
  EXPECT_TRUE(precondition_failed(lines, "", "\"y\"", kMtime));
}

TEST(PreconditionFailed, IfUnmodifiedSinceUnlessIfMatchDecides) {
  EXPECT_FALSE(precondition_failed("", "Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", kMtime));
  EXPECT_TRUE(precondition_failed("", "Sun, 06 Nov 1994 08:49:36 GMT", "\"x\"", kMtime));
  EXPECT_FALSE(precondition_failed("", "garbage", "\"x\"", kMtime)) << "ignored";
  EXPECT_FALSE(precondition_failed("\"x\"", "Sun, 06 Nov 1994 08:49:36 GMT", "\"x\"", kMtime))
      << "If-Match present: If-Unmodified-Since is not evaluated";
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
