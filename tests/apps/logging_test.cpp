// The daemons' logging: levels, the log file, and exceptions of detached tasks reaching the log.
#include "logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "config_reader.hpp"
#include "zap/zell/unobserved_exception.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Logging : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "zap_logging_test_" + std::to_string(::getpid()) + ".log";
    std::remove(path_.c_str());
  }
  void TearDown() override {
    zap::zell::set_unobserved_exception_handler(nullptr);
    // Drop the file sink (and its open file) that setup_logging installed.
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
    std::remove(path_.c_str());
  }
  std::string path_;
};

}  // namespace

TEST_F(Logging, LinesAtOrAboveTheLevelReachTheFile) {
  zap::app::LogSettings settings;
  settings.level = "warn";
  settings.file = path_;
  zap::app::setup_logging("zap-test", settings);
  spdlog::info("an info line");
  spdlog::warn("a warning line");
  spdlog::default_logger()->flush();
  const std::string text = read_file(path_);
  EXPECT_EQ(text.find("an info line"), std::string::npos);
  EXPECT_NE(text.find("a warning line"), std::string::npos);
  EXPECT_NE(text.find("[zap-test]"), std::string::npos);
}

TEST_F(Logging, UnknownLevelIsAConfigError) {
  zap::app::LogSettings settings;
  settings.level = "loud";
  EXPECT_THROW(zap::app::setup_logging("zap-test", settings), zap::app::ConfigError);
  EXPECT_FALSE(zap::app::set_log_level("loud"));
  EXPECT_TRUE(zap::app::set_log_level("debug"));
}

TEST_F(Logging, ExceptionsOfTasksNobodyJoinedAreLoggedAsErrors) {
  zap::app::LogSettings settings;
  settings.file = path_;
  zap::app::setup_logging("zap-test", settings);
  zap::zell::detail::report_unobserved_exception(
      std::make_exception_ptr(std::runtime_error("connection task blew up")));
  zap::zell::detail::report_unobserved_exception(std::make_exception_ptr(42));
  spdlog::default_logger()->flush();
  const std::string text = read_file(path_);
  EXPECT_NE(text.find("error [zap-test] a task ended with an exception nobody joined: connection "
                      "task blew up"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(not a std::exception)"), std::string::npos) << text;
}
