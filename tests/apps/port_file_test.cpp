#include "port_file.hpp"

#include <fcntl.h>
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

TEST_F(PortFile, ASymlinkStaysAndItsTargetGetsTheAddresses) {
  std::ofstream(dir_ / "target") << "old\n";
  std::filesystem::create_symlink(dir_ / "target", dir_ / "link");
  write_port_file((dir_ / "link").string(), {"127.0.0.1:4000"});
  EXPECT_TRUE(std::filesystem::is_symlink(dir_ / "link"));
  EXPECT_EQ(contents(dir_ / "target"), "127.0.0.1:4000\n");
}

TEST_F(PortFile, ADanglingSymlinkGetsItsTargetCreated) {
  std::filesystem::create_symlink(dir_ / "target", dir_ / "link");
  write_port_file((dir_ / "link").string(), {"127.0.0.1:4000"});
  EXPECT_TRUE(std::filesystem::is_symlink(dir_ / "link"));
  EXPECT_EQ(contents(dir_ / "target"), "127.0.0.1:4000\n");
}

// A FIFO is written through; one nobody reads is an error at once, not a daemon stuck forever.
TEST_F(PortFile, AFifoIsWrittenThroughAndOneWithoutAReaderFails) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(write_port_file(fifo, {"127.0.0.1:1"}), std::system_error);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  write_port_file(fifo, {"127.0.0.1:4000"});
  char buf[64] = {};
  EXPECT_EQ(::read(reader, buf, sizeof buf), 15);
  EXPECT_STREQ(buf, "127.0.0.1:4000\n");
  ::close(reader);
  EXPECT_EQ(std::filesystem::status(fifo).type(), std::filesystem::file_type::fifo);
}

TEST_F(PortFile, AnUnwritablePathThrows) {
  EXPECT_THROW(write_port_file((dir_ / "missing" / "ports").string(), {"127.0.0.1:1"}),
               std::system_error);
}

}  // namespace
}  // namespace zap::app
