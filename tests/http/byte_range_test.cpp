#include "byte_range.hpp"

#include <gtest/gtest.h>

#include <string>

#include "multipart.hpp"

namespace zap::http {
namespace {

// The only range of `header`, which must be satisfiable and single.
ByteRange one(std::string_view header, std::uint64_t size) {
  ByteRanges r;
  EXPECT_EQ(parse_byte_ranges(header, size, r), RangeRequest::kSatisfiable) << header;
  EXPECT_EQ(r.count, 1u) << header;
  return r.items[0];
}

TEST(ByteRange, SatisfiableForms) {
  EXPECT_EQ(one("bytes=0-99", 1000).first, 0u);
  EXPECT_EQ(one("bytes=0-99", 1000).last, 99u);
  EXPECT_EQ(one("bytes=0-99", 1000).length(), 100u);
  EXPECT_EQ(one("bytes=990-2000", 1000).last, 999u) << "the end is clamped to the size";
  EXPECT_EQ(one("bytes=500-", 1000).first, 500u);
  EXPECT_EQ(one("bytes=500-", 1000).last, 999u);
  EXPECT_EQ(one("bytes=-100", 1000).first, 900u);
  EXPECT_EQ(one("bytes=-5000", 1000).first, 0u);
  EXPECT_EQ(one(" Bytes=1-1 ", 2).length(), 1u);
}

TEST(ByteRange, NumbersPastAnyFileSizeAreAsGoodAsInfinity) {
  EXPECT_EQ(one("bytes=0-99999999999999999999", 1000).last, 999u);
  EXPECT_EQ(one("bytes=-99999999999999999999999", 1000).first, 0u);
  ByteRanges r;
  EXPECT_EQ(parse_byte_ranges("bytes=1000000000000000000-", 1000, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_ranges("bytes=99999999999999999999-5", 1000, r), RangeRequest::kNone)
      << "last before first: malformed";
}

TEST(ByteRange, UnsatisfiableWhenEveryRangeStartsPastTheEnd) {
  ByteRanges r;
  for (const char* header : {"bytes=1000-", "bytes=1000-1001", "bytes=-0", "bytes=1000-,2000-"}) {
    EXPECT_EQ(parse_byte_ranges(header, 1000, r), RangeRequest::kUnsatisfiable) << header;
  }
  EXPECT_EQ(parse_byte_ranges("bytes=0-", 0, r), RangeRequest::kUnsatisfiable);
  EXPECT_EQ(parse_byte_ranges("bytes=-5", 0, r), RangeRequest::kUnsatisfiable);
}

TEST(ByteRange, SeveralRangesInAscendingOrderAndApart) {
  ByteRanges r;
  ASSERT_EQ(parse_byte_ranges("bytes=0-9, 20-29,-5", 1000, r), RangeRequest::kSatisfiable);
  ASSERT_EQ(r.count, 3u);
  EXPECT_EQ(r.items[1].first, 20u);
  EXPECT_EQ(r.items[2].first, 995u);
  // An unsatisfiable one among them is left out; one left is a plain single range.
  ASSERT_EQ(parse_byte_ranges("bytes=0-9,5000-6000", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.count, 1u);
  // Empty list elements count for nothing (RFC 9110 5.6.1.2).
  ASSERT_EQ(parse_byte_ranges("bytes=0-1,, 3-4,", 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.count, 2u);
  std::string sixteen = "bytes=0-0";
  for (int i = 1; i < 16; ++i) sixteen += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
  ASSERT_EQ(parse_byte_ranges(sixteen, 1000, r), RangeRequest::kSatisfiable);
  EXPECT_EQ(r.count, kMaxRanges);
}

TEST(ByteRange, IgnoredWhenMalformedOtherUnitOverlappingUnorderedOrTooMany) {
  ByteRanges r;
  std::string seventeen = "bytes=0-0";
  for (int i = 1; i < 17; ++i)
    seventeen += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
  for (const std::string& ignored :
       {std::string(""), std::string("items=0-1"), std::string("bytes="), std::string("bytes=5-1"),
        std::string("bytes=a-b"), std::string("bytes=--1"), std::string("bytes=1"),
        std::string("bytes=,"), std::string("bytes=0-1,x"),
        std::string("bytes=0-10,5-20"),   // overlapping
        std::string("bytes=0-10,10-20"),  // overlapping by one byte
        std::string("bytes=20-30,0-10"),  // descending
        std::string("bytes=0-,-10"),      // the same bytes twice
        seventeen}) {
    EXPECT_EQ(parse_byte_ranges(ignored, 1000, r), RangeRequest::kNone) << ignored;
  }
}

TEST(Multipart, TheLengthIsWhatIsWritten) {
  ByteRanges r;
  ASSERT_EQ(parse_byte_ranges("bytes=0-0,10-99,990-", 1000, r), RangeRequest::kSatisfiable);
  MultipartLabel label;
  new_boundary(label);
  std::string body;
  char head[512];
  for (std::size_t i = 0; i < r.count; ++i) {
    const std::size_t n =
        write_part_head(label.boundary(), i, "text/plain", r.items[i], 1000, head, sizeof head);
    ASSERT_GT(n, 0u);
    body.append(head, n);
    body.append(r.items[i].length(), 'x');
  }
  body.append(head, write_multipart_end(label.boundary(), head, sizeof head));
  EXPECT_EQ(body.size(), multipart_length("text/plain", r, 1000));
  const std::string type(label.type());
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u);
  const std::string boundary = type.substr(type.find('=') + 1);
  EXPECT_EQ(boundary.size(), 20u);
  EXPECT_EQ(body.rfind(
                "--" + boundary +
                    "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/1000\r\n\r\nx\r\n--" +
                    boundary,
                0),
            0u)
      << body;
  EXPECT_NE(body.find("\r\nContent-Range: bytes 990-999/1000\r\n\r\nxxxxxxxxxx\r\n--" + boundary +
                      "--\r\n"),
            std::string::npos)
      << body;
  EXPECT_EQ(write_part_head(label.boundary(), 0, "text/plain", r.items[0], 1000, head, 10), 0u);
  MultipartLabel another;
  new_boundary(another);
  EXPECT_NE(another.boundary(), label.boundary()) << "a boundary per response";
}

}  // namespace
}  // namespace zap::http
