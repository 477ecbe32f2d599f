#include "request_target.hpp"

#include <gtest/gtest.h>

namespace zap::http {
namespace {

struct Case {
  const char* target;
  const char* path;
  const char* query;
};

class DecodeTarget : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeTarget, GivesTheNormalizedPathAndQuery) {
  std::string path;
  std::string_view query;
  ASSERT_EQ(decode_target(GetParam().target, path, query), TargetStatus::kOk) << GetParam().target;
  EXPECT_EQ(path, GetParam().path) << GetParam().target;
  EXPECT_EQ(query, GetParam().query) << GetParam().target;
}

INSTANTIATE_TEST_SUITE_P(
    Targets, DecodeTarget,
    ::testing::Values(Case{"/", "/", ""}, Case{"/index.html", "/index.html", ""},
                      Case{"/a/b/?x=1&y=2", "/a/b/", "x=1&y=2"}, Case{"/a//b", "/a/b", ""},
                      Case{"/a/./b/.", "/a/b/", ""}, Case{"/a/b/../c", "/a/c", ""},
                      Case{"/a/b/..", "/a/", ""}, Case{"/a/%62", "/a/b", ""},
                      Case{"/with%20space", "/with space", ""}, Case{"/a%2Fb", "/a/b", ""},
                      Case{"/a/%2e%2e/b", "/b", ""}, Case{"/caf%C3%A9", "/caf\xc3\xa9", ""},
                      Case{"/x#frag", "/x", ""}, Case{"/x?q#frag", "/x", "q"},
                      Case{"http://example.com/a/b?q", "/a/b", "q"},
                      Case{"HTTPS://example.com", "/", ""},
                      Case{"http://example.com?q=1", "/", "q=1"},
                      Case{"/a%0D%0Ab", "/a\r\nb", ""}));

TEST(DecodeTargetRefuses, ClimbingAboveTheRootMalformedEscapesAndNul) {
  for (const char* bad : {"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/a/%2E%2E/%2e%2e/x",
                          "/%", "/%4", "/%zz", "/%00", "relative", "", "http://host/../x"}) {
    std::string path;
    std::string_view query;
    EXPECT_EQ(decode_target(bad, path, query), TargetStatus::kBad) << bad;
  }
}

TEST(DecodeTargetAsterisk, IsReportedForOptions) {
  std::string path;
  std::string_view query;
  EXPECT_EQ(decode_target("*", path, query), TargetStatus::kAsterisk);
}

}  // namespace
}  // namespace zap::http
