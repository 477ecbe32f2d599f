#include "zap/zio/pipe.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::record;
using testing::run_until;

class PipeTest : public testing::BackendTest {};
ZIO_INSTANTIATE_BACKENDS(PipeTest);

TEST_P(PipeTest, RoundTripThenEofAfterTheWriterCloses) {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(::fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK);
  char buf[32] = {};
  Outcome read, wrote;
  Operation r(&record, &read), w(&record, &wrote);
  r.prep_read(p.read_end.get(), buf, sizeof(buf));  // waits: the pipe is empty
  r.set_timeout(5s);
  loop().submit(r);
  loop().run_once(0ns);
  EXPECT_EQ(read.calls, 0);
  w.prep_write(p.write_end.get(), "through the pipe", 16);
  loop().submit(w);
  ASSERT_TRUE(run_until(loop(), [&] { return read.calls == 1 && wrote.calls == 1; }));
  EXPECT_EQ(wrote.result.bytes(), 16u);
  ASSERT_EQ(read.result.bytes(), 16u) << read.result.error().message();
  EXPECT_EQ(std::string(buf, 16), "through the pipe");

  loop().close_fd(p.write_end.release());
  r.prep_read(p.read_end.get(), buf, sizeof(buf));
  r.set_timeout(5s);
  loop().submit(r);
  ASSERT_TRUE(run_until(loop(), [&] { return read.calls == 2; }));
  ASSERT_TRUE(read.result.ok()) << read.result.error().message();
  EXPECT_EQ(read.result.bytes(), 0u);
}

// A pipe cannot seek: an offset given with a read or a write is ignored, as io_uring ignores it
// (epoll's pread/pwrite fail with ESPIPE, so it reads and writes at the stream's position too).
TEST_P(PipeTest, AnOffsetOnAPipeIsIgnoredOnBothBackends) {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  ASSERT_FALSE(ec);
  char buf[32] = {};
  const iovec out[2] = {{const_cast<char*>("abc"), 3}, {const_cast<char*>("def"), 3}};
  iovec in[1] = {{buf + 4, 6}};
  Outcome wrote, wrote_v, read, read_v;
  Operation w(&record, &wrote), wv(&record, &wrote_v), r(&record, &read), rv(&record, &read_v);
  w.prep_write(p.write_end.get(), "0123", 4, 1000);
  loop().submit(w);
  ASSERT_TRUE(run_until(
      loop(), [&] { return wrote.calls == 1; }, 2s));
  wv.prep_writev(p.write_end.get(), out, 2, 7);
  loop().submit(wv);
  ASSERT_TRUE(run_until(
      loop(), [&] { return wrote_v.calls == 1; }, 2s));
  EXPECT_EQ(wrote.result.bytes(), 4u) << wrote.result.error().message();
  EXPECT_EQ(wrote_v.result.bytes(), 6u) << wrote_v.result.error().message();
  r.prep_read(p.read_end.get(), buf, 4, 5);
  loop().submit(r);
  ASSERT_TRUE(run_until(
      loop(), [&] { return read.calls == 1; }, 2s));
  rv.prep_readv(p.read_end.get(), in, 1, 1 << 20);
  loop().submit(rv);
  ASSERT_TRUE(run_until(
      loop(), [&] { return read_v.calls == 1; }, 2s));
  EXPECT_EQ(read.result.bytes(), 4u) << read.result.error().message();
  EXPECT_EQ(read_v.result.bytes(), 6u) << read_v.result.error().message();
  EXPECT_EQ(std::string(buf, 10), "0123abcdef");
}

TEST_P(PipeTest, FullPipeWriteCompletesPartiallyAndResumes) {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  ASSERT_FALSE(ec);
  const int size = set_pipe_size(p.write_end.get(), 4096, ec);
  ASSERT_FALSE(ec);
  std::vector<char> data(size * 8, 'z');
  std::vector<char> got(data.size());
  std::size_t sent = 0, received = 0;
  Outcome read, wrote;
  Operation r(&record, &read), w(&record, &wrote);
  w.prep_write(p.write_end.get(), data.data(), data.size());
  r.prep_read(p.read_end.get(), got.data(), got.size());
  loop().submit(w);
  loop().submit(r);
  ASSERT_TRUE(run_until(loop(), [&] {
    if (wrote.calls == 1) {
      wrote.calls = 0;
      EXPECT_TRUE(wrote.result.ok());
      sent += wrote.result.bytes();
      if (sent < data.size()) {
        w.prep_write(p.write_end.get(), data.data() + sent, data.size() - sent);
        loop().submit(w);
      }
    }
    if (read.calls == 1) {
      read.calls = 0;
      EXPECT_TRUE(read.result.ok());
      received += read.result.bytes();
      if (received < data.size()) {
        r.prep_read(p.read_end.get(), got.data() + received, got.size() - received);
        loop().submit(r);
      }
    }
    return sent == data.size() && received == data.size();
  }));
  EXPECT_TRUE(got == data);
}

// Blocking pipes (io_uring runs such a splice in a kernel worker, which a cancel interrupts): a
// cancel still ends it with ECANCELED and a deadline with ETIMEDOUT, never the kernel's internal
// restart codes. (The epoll backend needs non-blocking fds, as make_pipe's are: io_uring only.)
TEST_P(PipeTest, ASpliceBetweenBlockingPipesEndsWithEcanceledOrEtimedout) {
  if (GetParam() != BackendKind::io_uring) GTEST_SKIP() << "io_uring only";
  for (const bool by_deadline : {false, true}) {
    int in[2], out[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    UniqueFd a(in[0]), b(in[1]), c(out[0]), d(out[1]);
    Outcome result;
    Operation op(&record, &result);
    op.prep_splice(in[0], Operation::kCurrentPosition, out[1], Operation::kCurrentPosition, 64);
    if (by_deadline) op.set_timeout(100ms);
    loop().submit(op);
    if (!by_deadline) {
      run_until(
          loop(), [] { return false; }, 50ms);
      loop().cancel(op);
    }
    ASSERT_TRUE(run_until(
        loop(), [&] { return result.calls == 1; }, 5s));
    EXPECT_EQ(result.result.error(),
              by_deadline ? std::errc::timed_out : std::errc::operation_canceled)
        << result.result.raw();
  }
}

TEST_P(PipeTest, StdStreamRestoresTheOriginalFlags) {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  ASSERT_FALSE(ec);
  ASSERT_FALSE(set_nonblocking(p.read_end.get(), false));
  {
    StdStream s(p.read_end.get(), ec);
    ASSERT_FALSE(ec);
    EXPECT_TRUE(::fcntl(s.fd(), F_GETFL) & O_NONBLOCK);
  }
  EXPECT_FALSE(::fcntl(p.read_end.get(), F_GETFL) & O_NONBLOCK);
}

}  // namespace
}  // namespace zap::zio
