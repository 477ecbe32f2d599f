#include "access_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "config_reader.hpp"
#include "site_fixture.hpp"

namespace zap::http {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(AccessLog, WritesCombinedLinesWhenFlushed) {
  SiteDir dir;
  app::LogFile log(dir.path("access.log"), "access_log");
  {
    AccessLogBuffer buffer(log);
    buffer.append({"127.0.0.1", "GET /index.html HTTP/1.1", 200, 1706, "", "curl/7.88.1"});
    buffer.append({"::1", "HEAD / HTTP/1.0", 304, 0, "http://a/b", ""});
    ASSERT_TRUE(buffer.flush());
    EXPECT_EQ(buffer.take_error(), 0);
  }
  const std::string text = slurp(dir.path("access.log"));
  const std::regex line(
      R"(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /index\.html HTTP/1\.1" 200 1706 "-" "curl/7\.88\.1"
::1 - - \[[^\]]+\] "HEAD / HTTP/1\.0" 304 0 "http://a/b" "-"
)");
  EXPECT_TRUE(std::regex_match(text, line)) << text;
}

TEST(AccessLog, EscapesWhatCouldForgeLinesOrFields) {
  SiteDir dir;
  app::LogFile log(dir.path("access.log"), "access_log");
  {
    AccessLogBuffer buffer(log);
    buffer.append({"10.0.0.1", "GET /a\"b\\c\r\n\x01\xff HTTP/1.1", 400, 5, "", "x\" \"y"});
  }  // the destructor flushes
  const std::string text = slurp(dir.path("access.log"));
  EXPECT_NE(text.find(R"("GET /a\x22b\x5Cc\x0D\x0A\x01\xFF HTTP/1.1" 400 5 "-" "x\x22 \x22y")"),
            std::string::npos)
      << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(AccessLog, ReopenFollowsARotatedFile) {
  SiteDir dir;
  app::LogFile log(dir.path("access.log"), "access_log");
  AccessLogBuffer buffer(log);
  buffer.append({"1.1.1.1", "GET /one HTTP/1.1", 200, 1, "", ""});
  ASSERT_TRUE(buffer.flush());
  std::filesystem::rename(dir.path("access.log"), dir.path("access.log.1"));
  EXPECT_EQ(log.reopen(), "");
  buffer.append({"1.1.1.1", "GET /two HTTP/1.1", 200, 1, "", ""});
  ASSERT_TRUE(buffer.flush());
  EXPECT_NE(slurp(dir.path("access.log.1")).find("/one"), std::string::npos);
  EXPECT_EQ(slurp(dir.path("access.log.1")).find("/two"), std::string::npos);
  EXPECT_NE(slurp(dir.path("access.log")).find("/two"), std::string::npos);
}

TEST(AccessLog, AnUnopenablePathIsAConfigError) {
  EXPECT_THROW(app::LogFile("/nonexistent-dir/zap/access.log", "access_log"), app::ConfigError);
}

TEST(AccessLog, AFailedWriteIsReportedNotFatal) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  app::LogFile log("/dev/full", "access_log");  // every write: ENOSPC, like a full disk
  AccessLogBuffer buffer(log);
  buffer.append({"1.1.1.1", "GET / HTTP/1.1", 200, 1, "", ""});
  EXPECT_FALSE(buffer.flush());
  EXPECT_EQ(buffer.take_error(), ENOSPC);
  EXPECT_EQ(buffer.take_error(), 0);
  EXPECT_TRUE(buffer.flush()) << "nothing left pending";
}

}  // namespace
}  // namespace zap::http
