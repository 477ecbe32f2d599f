#include "zap/zio/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>

#include "zap/zio/socket.hpp"
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

// A FileSender's completion, into the Outcome that is its user().
void record_send(FileSender& sender, Result r) {
  auto* out = static_cast<Outcome*>(sender.user());
  ++out->calls;
  out->result = r;
}

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
  const int client_fd = client.get();  // lambdas cannot capture structured bindings in clang 14

  constexpr std::uint64_t kOffset = 100;
  Outcome sent;
  FileSender sender;
  ASSERT_FALSE(sender.start(loop(), file.get(), kOffset, kSize - kOffset, server.get(),
                            &record_send, &sent));
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
        r.prep_recv(client_fd, got.data() + have, got.size() - have);
        loop().submit(r);
      }
    }
    return have == got.size() && sent.calls == 1;
  }));
  ASSERT_TRUE(sent.result.ok()) << sent.result.error().message();
  EXPECT_EQ(sent.result.bytes(), kSize - kOffset);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + kOffset));
}

// The reader starts only after a timer fires, long after the socket buffer filled: the splice
// into the full socket must wait for room (on io_uring it fails with EAGAIN at once otherwise).
TEST_P(FileTest, FileSenderWaitsForASlowReader) {
  constexpr std::size_t kSize = 6u << 20;
  std::vector<char> data(kSize);
  std::mt19937 rng(11);
  for (auto& b : data) b = static_cast<char>(rng());
  std::error_code ec;
  UniqueFd file = open_file(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(::pwrite(file.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));

  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  ASSERT_FALSE(set_buffer_sizes(server.get(), 16 * 1024, 16 * 1024));
  ASSERT_FALSE(set_buffer_sizes(client.get(), 16 * 1024, 16 * 1024));

  struct Reader {
    Loop* loop;
    int fd;
    std::vector<char> got;
    std::size_t have = 0;
    std::error_code error;
    Operation op;

    static void on_delay_over(Operation& op, Result) {
      auto& rd = *static_cast<Reader*>(op.user());
      op.set_callback(&on_recv, &rd);
      op.prep_recv(rd.fd, rd.got.data(), rd.got.size());
      rd.loop->submit(op);
    }
    static void on_recv(Operation& op, Result r) {
      auto& rd = *static_cast<Reader*>(op.user());
      if (!r || r.bytes() == 0) {
        rd.error = r ? std::make_error_code(std::errc::connection_reset) : r.error();
        return;
      }
      rd.have += r.bytes();
      if (rd.have == rd.got.size()) return;
      op.prep_recv(rd.fd, rd.got.data() + rd.have, rd.got.size() - rd.have);
      rd.loop->submit(op);
    }
  } reader{&loop(), client.get(), std::vector<char>(kSize), 0, {}, {}};
  reader.op.set_callback(&Reader::on_delay_over, &reader);
  reader.op.prep_timeout(300ms);  // no reader until then: the sender fills the socket and waits
  loop().submit(reader.op);

  Outcome sent;
  FileSender sender;
  ASSERT_FALSE(sender.start(loop(), file.get(), 0, kSize, server.get(), &record_send, &sent));
  ASSERT_TRUE(run_until(loop(), [&] {
    return sent.calls == 1 && (reader.have == kSize || reader.error || !sent.result.ok());
  }));
  ASSERT_TRUE(sent.result.ok()) << sent.result.error().message();
  EXPECT_EQ(sent.result.bytes(), kSize);
  EXPECT_FALSE(reader.error) << reader.error.message();
  ASSERT_EQ(reader.have, kSize);
  EXPECT_EQ(testing::fnv1a(reader.got.data(), kSize), testing::fnv1a(data.data(), kSize));
}

// A cancel right after start() ends the send with ECANCELED, even when its first splice has
// already completed inside start() (the epoll backend does file IO inline): the completion must
// not carry the send on.
TEST_P(FileTest, FileSenderCancelledAfterStartReportsCanceled) {
  std::error_code ec;
  UniqueFd file = open_file(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600, ec);
  ASSERT_FALSE(ec);
  const std::string data(1 << 20, 'c');
  ASSERT_EQ(::pwrite(file.get(), data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  Outcome sent;
  FileSender sender;
  ASSERT_FALSE(sender.start(loop(), file.get(), 0, data.size(), server.get(), &record_send, &sent));
  sender.cancel();
  ASSERT_TRUE(run_until(loop(), [&] { return sent.calls == 1; }));
  EXPECT_EQ(sent.result.raw(), -ECANCELED);
}

// A zero-byte send still reports through the loop, never inside start().
TEST_P(FileTest, FileSenderOfNothingCallsBackFromTheLoop) {
  std::error_code ec;
  UniqueFd file = open_file(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600, ec);
  ASSERT_FALSE(ec);
  UniqueFd listener;
  const auto addr = testing::listen_loopback(listener);
  auto [client, server] = testing::connected_pair(loop(), listener.get(), addr);
  Outcome sent;
  FileSender sender;
  ASSERT_FALSE(sender.start(loop(), file.get(), 0, 0, server.get(), &record_send, &sent));
  EXPECT_EQ(sent.calls, 0) << "called back inside start()";
  ASSERT_TRUE(run_until(loop(), [&] { return sent.calls == 1; }));
  EXPECT_TRUE(sent.result.ok());
  EXPECT_EQ(sent.result.bytes(), 0u);
}

}  // namespace
}  // namespace zap::zio
