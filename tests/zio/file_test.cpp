#include "zap/zio/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::record;
using testing::run_until;

class FileTest : public testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    path_ = "/tmp/zio-file-test-" + std::to_string(::getpid()) + "-" +
            std::string(to_string(GetParam()));
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  Result run(Operation& op) {
    Outcome out;
    op.set_callback(&record, &out);
    loop().submit(op);
    EXPECT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
    return out.result;
  }

  std::string path_;
};
ZIO_INSTANTIATE_BACKENDS(FileTest);

TEST_P(FileTest, OpenWriteFsyncReadStatClose) {
  Operation op;
  op.prep_openat(AT_FDCWD, path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  const Result opened = run(op);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  const int fd = opened.fd();
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);

  const std::string text = "positioned write";
  op.prep_write(fd, text.data(), text.size(), 4096);
  ASSERT_EQ(run(op).bytes(), text.size());
  op.prep_fsync(fd);
  EXPECT_TRUE(run(op).ok());
  op.prep_fsync(fd, /*data_only=*/true);
  EXPECT_TRUE(run(op).ok());

  char buf[64] = {};
  op.prep_read(fd, buf, sizeof(buf), 4096);
  ASSERT_EQ(run(op).bytes(), text.size());
  EXPECT_EQ(std::string(buf, text.size()), text);
  op.prep_read(fd, buf, 8, 0);  // the hole reads as zeros
  ASSERT_EQ(run(op).bytes(), 8u);
  EXPECT_EQ(std::string(buf, 8), std::string(8, '\0'));

  struct statx st {};
  op.prep_statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
  ASSERT_TRUE(run(op).ok());
  EXPECT_EQ(st.stx_size, 4096 + text.size());
  op.prep_statx(AT_FDCWD, path_.c_str(), 0, STATX_SIZE, &st);
  ASSERT_TRUE(run(op).ok());
  EXPECT_EQ(st.stx_size, 4096 + text.size());

  iovec iov[2] = {{buf, 4}, {buf + 4, 4}};
  op.prep_readv(fd, iov, 2, 4096);
  ASSERT_EQ(run(op).bytes(), 8u);
  EXPECT_EQ(std::string(buf, 8), "position");

  op.prep_close(fd);
  EXPECT_TRUE(run(op).ok());
  op.prep_read(fd, buf, 1, 0);
  EXPECT_EQ(run(op).error(), std::errc::bad_file_descriptor);
}

TEST_P(FileTest, OpenMissingFileIsEnoent) {
  Operation op;
  op.prep_openat(AT_FDCWD, "/nonexistent/zio/file", O_RDONLY);
  EXPECT_EQ(run(op).error(), std::errc::no_such_file_or_directory);
}

TEST_P(FileTest, FileSenderSplicesAFileRangeToASocketIntact) {
  constexpr std::size_t kSize = (1u << 20) + 12345;  // not a multiple of the chunk
  std::vector<char> data(kSize);
  std::mt19937 rng(7);
  for (auto& b : data) b = static_cast<char>(rng());
  std::error_code ec;
  UniqueFd file = open_file(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(::pwrite(file.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));

  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);

  constexpr std::uint64_t kOffset = 100;
  Outcome sent;
  FileSender sender;
  ASSERT_FALSE(sender.start(
      loop(), file.get(), kOffset, kSize - kOffset, server.get(),
      [](FileSender& s, Result r) {
        auto* out = static_cast<Outcome*>(s.user());
        ++out->calls;
        out->result = r;
      },
      &sent));
  std::vector<char> got(kSize - kOffset);
  std::size_t have = 0;
  Outcome read;
  Operation r(&record, &read);
  r.prep_recv(client.get(), got.data(), got.size());
  loop().submit(r);
  ASSERT_TRUE(run_until(loop(), [&] {
    if (read.calls == 1) {
      EXPECT_TRUE(read.result.ok() && read.result.bytes() > 0) << read.result.error().message();
      if (!read.result.ok() || read.result.bytes() == 0) return true;
      have += read.result.bytes();
      read.calls = 0;
      if (have < got.size()) {
        r.prep_recv(client.get(), got.data() + have, got.size() - have);
        loop().submit(r);
      }
    }
    return have == got.size() && sent.calls == 1;
  }));
  ASSERT_TRUE(sent.result.ok()) << sent.result.error().message();
  EXPECT_EQ(sent.result.bytes(), kSize - kOffset);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + kOffset));
}

}  // namespace
}  // namespace zap::zio
