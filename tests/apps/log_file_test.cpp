#include "log_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_reader.hpp"

namespace zap::app {
namespace {

class ScratchDir {
 public:
  ScratchDir() {
    char templ[] = "/tmp/zap-log-test-XXXXXX";
    root_ = ::mkdtemp(templ);
  }
  ~ScratchDir() { std::filesystem::remove_all(root_); }
  std::string path(const std::string& name) const { return root_ + "/" + name; }

 private:
  std::string root_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LogTime, FormatsUtcToTheSecondOrTheMillisecond) {
  LogTime time;
  std::string out;
  time.append(out, timespec{1'796'390'400, 7'000'000}, true);  // 2026-12-04 13:20:00.007 UTC
  EXPECT_EQ(out, "[04/Dec/2026:13:20:00.007 +0000]");
  out.clear();
  time.append(out, timespec{1'796'390'400, 999'999'999}, false);  // the same second, cached
  EXPECT_EQ(out, "[04/Dec/2026:13:20:00 +0000]");
  out.clear();
  time.append(out, timespec{0, 123'000'000}, true);
  EXPECT_EQ(out, "[01/Jan/1970:00:00:00.123 +0000]");
}

TEST(LogText, EscapesWhatCouldForgeLinesOrFieldsAndMarksEmptyFields) {
  std::string out;
  append_log_text(out, "a\"b\\c\r\n\x01\xff z");
  EXPECT_EQ(out, R"(a\x22b\x5Cc\x0D\x0A\x01\xFF z)");
  out.clear();
  append_log_text(out, "");
  EXPECT_EQ(out, "-");
  out.clear();
  append_log_number(out, std::int64_t{-1});
  out += ' ';
  append_log_number(out, std::uint64_t{18'446'744'073'709'551'615u});
  EXPECT_EQ(out, "-1 18446744073709551615");
}

std::int64_t coarse_second() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return now.tv_sec;
}

TEST(LogBuffer, HoldsLinesUntilFlushedOr16KiBWait) {
  ScratchDir dir;
  LogFile file(dir.path("a.log"), "a_log");
  LogBuffer buffer(file);
  auto written = [&] { return std::filesystem::file_size(dir.path("a.log")); };
  for (;;) {  // a short line is held back, unless a second turned meanwhile (then again)
    ASSERT_TRUE(buffer.flush());
    const std::uintmax_t flushed = written();
    const std::int64_t second = coarse_second();
    buffer.begin_line() += "one\n";
    buffer.end_line();
    const bool held = written() == flushed;
    if (coarse_second() != second) continue;
    EXPECT_TRUE(held);
    break;
  }
  ASSERT_TRUE(buffer.flush());
  const std::uintmax_t before = written();
  EXPECT_EQ(before % 4, 0u);
  EXPECT_GT(before, 0u);
  // Never more than 16 KiB and a line pending, whatever the clock does (a turned second only
  // writes sooner).
  const std::string line(1000, 'x');
  for (int i = 0; i < 40; ++i) {
    buffer.begin_line() += line + "\n";
    buffer.end_line();
    const std::uintmax_t pending = before + (i + 1) * 1001u - written();
    ASSERT_LT(pending, 16u * 1024 + 1001) << i;
  }
  ASSERT_TRUE(buffer.flush());
  EXPECT_EQ(written(), before + 40 * 1001u);
}

TEST(LogFile, ReopenFollowsARotatedFileAndAFailedOpenIsAConfigErrorNamingTheKey) {
  ScratchDir dir;
  LogFile file(dir.path("a.log"), "a_log");
  ASSERT_TRUE(file.write("before\n"));
  std::filesystem::rename(dir.path("a.log"), dir.path("a.log.1"));
  EXPECT_EQ(file.reopen(), "");
  ASSERT_TRUE(file.write("after\n"));
  EXPECT_EQ(slurp(dir.path("a.log.1")), "before\n");
  EXPECT_EQ(slurp(dir.path("a.log")), "after\n");
  try {
    LogFile bad("/nonexistent-dir/zap/a.log", "pools[0].log");
    FAIL() << "opened";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("pools[0].log: cannot open \"/nonexistent-dir", 0), 0u)
        << e.what();
  }
  std::filesystem::remove(dir.path("a.log"));
  std::filesystem::create_directory(dir.path("a.log"));  // reopen fails: the old file stays
  EXPECT_NE(file.reopen(), "");
  EXPECT_TRUE(file.write("still\n")) << "the old descriptor is kept";
}

TEST(ConfigPath, RelativePathsAreTheConfigFoldersAndOthersStayAsGiven) {
  EXPECT_EQ(config_folder("/etc/zap/proxy.json"), "/etc/zap");
  EXPECT_EQ(config_folder(""), "");
  EXPECT_EQ(resolve_config_path("/etc/zap", "logs/a.log"), "/etc/zap/logs/a.log");
  EXPECT_EQ(resolve_config_path("/etc/zap", "/var/log/a.log"), "/var/log/a.log");
  EXPECT_EQ(resolve_config_path("", "a.log"), "a.log");
  EXPECT_EQ(resolve_config_path("/etc/zap", ""), "");
}

}  // namespace
}  // namespace zap::app
