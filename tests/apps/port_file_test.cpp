#include "port_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace zap::app {
namespace {

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class PortFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zap-port-file-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(PortFile, WritesOneAddressPerLineAndLeavesNoTemporary) {
  write_port_file((dir_ / "ports").string(), {"127.0.0.1:4000", "[::1]:4000"});
  EXPECT_EQ(contents(dir_ / "ports"), "127.0.0.1:4000\n[::1]:4000\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(PortFile, ASymlinkIsWrittenThroughNotReplaced) {
  std::ofstream(dir_ / "target") << "old\n";
  std::filesystem::create_symlink(dir_ / "target", dir_ / "link");
  write_port_file((dir_ / "link").string(), {"127.0.0.1:4000"});
  EXPECT_TRUE(std::filesystem::is_symlink(dir_ / "link"));
  EXPECT_EQ(contents(dir_ / "target"), "127.0.0.1:4000\n");
}

TEST_F(PortFile, AnUnwritablePathThrows) {
  EXPECT_THROW(write_port_file((dir_ / "missing" / "ports").string(), {"127.0.0.1:1"}),
               std::system_error);
}

}  // namespace
}  // namespace zap::app
