#include "byte_range.hpp"

#include <gtest/gtest.h>

namespace zap::http {
namespace {

TEST(ByteRange, SatisfiableForms) {
  ByteRange r;
  ASSERT_EQ(parse_byte_range("bytes=0-99", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
  EXPECT_EQ(r.length(), 100u);
  ASSERT_EQ(parse_byte_range("bytes=990-2000", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.last, 999u) << "the end is clamped to the size";
  ASSERT_EQ(parse_byte_range("bytes=500-", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.first, 500u);
  EXPECT_EQ(r.last, 999u);
  ASSERT_EQ(parse_byte_range("bytes=-100", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.first, 900u);
  ASSERT_EQ(parse_byte_range("bytes=-5000", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  ASSERT_EQ(parse_byte_range(" Bytes=1-1 ", 2, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.length(), 1u);
}

TEST(ByteRange, UnsatisfiableWhenItStartsPastTheEnd) {
  ByteRange r;
  EXPECT_EQ(parse_byte_range("bytes=1000-", 1000, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=1000-1001", 1000, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=-0", 1000, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=0-", 0, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=-5", 0, r), RangeRequest::kUnsatisfiable);
}

TEST(ByteRange, IgnoredWhenMalformedOtherUnitOrSeveral) {
  ByteRange r;
  for (const char* ignored : {"", "items=0-1", "bytes=", "bytes=5-1", "bytes=a-b", "bytes=0-1,3-4",
                              "bytes=--1", "bytes=1", "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parse_byte_range(ignored, 1000, r), RangeRequest::kNone) << ignored;
  }
}

}  // namespace
}  // namespace zap::http
