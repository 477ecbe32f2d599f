// Loop::close_fd: every op on the fd ends with ECANCELED - also one carrying a deadline (not
// ETIMEDOUT) - and the fd number can be reused at once without an old op or cancel reaching the
// new file, including under SQPOLL, where the kernel consumes SQEs after io_uring_submit returns.
// The "no_op_close" flavors hide IORING_OP_CLOSE, as on kernels before 5.6: under SQPOLL the number
// can then be released neither at once nor by a queued close, and waits in the backend's deferred
// list for a turn that finds every SQE issued.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::record;
using testing::run_until;

struct Flavor {
  BackendKind backend;
  bool sqpoll;
  bool no_op_close = false;
};

std::string flavor_name(const ::testing::TestParamInfo<Flavor>& info) {
  return std::string(to_string(info.param.backend)) + (info.param.sqpoll ? "_sqpoll" : "") +
         (info.param.no_op_close ? "_no_op_close" : "");
}

class CloseFdTest : public ::testing::TestWithParam<Flavor> {
 protected:
  void SetUp() override {
    LoopOptions options;
    options.backend = GetParam().backend;
    options.sqpoll = GetParam().sqpoll;
    options.sqpoll_idle_ms = 10;  // let the SQ thread fall asleep between rounds, too
    if (GetParam().no_op_close) options.io_uring_disabled_opcodes = {IORING_OP_CLOSE};
    std::error_code ec;
    loop_ = Loop::create(options, ec);
    if (!loop_ && GetParam().sqpoll) GTEST_SKIP() << "SQPOLL unavailable: " << ec.message();
    ASSERT_TRUE(loop_) << ec.message();
  }
  Loop& loop() { return *loop_; }
  std::unique_ptr<Loop> loop_;
};

INSTANTIATE_TEST_SUITE_P(Flavors, CloseFdTest,
                         ::testing::Values(Flavor{BackendKind::io_uring, false},
                                           Flavor{BackendKind::io_uring, true},
                                           Flavor{BackendKind::io_uring, false, true},
                                           Flavor{BackendKind::io_uring, true, true},
                                           Flavor{BackendKind::epoll, false}),
                         flavor_name);

TEST_P(CloseFdTest, AnOpWithADeadlineEndsWithEcanceledNotEtimedout) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[1]);
  char buf[16];
  Outcome out;
  Operation op(&record, &out);
  op.prep_recv(sv[0], buf, sizeof(buf));
  op.set_timeout(10s);
  loop().submit(op);
  loop().run_once(0ms);  // in flight (io_uring) / waiting with a timer (epoll)
  loop().close_fd(sv[0]);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.error(), std::errc::operation_canceled) << out.result.error().message();
}

// A splice waits on one of its two fds; closing the other one must end it too. Otherwise, once a
// new file holds the closed number, the splice would move the socket's bytes into that file.
TEST_P(CloseFdTest, ASpliceEndsWhenTheFdItDoesNotWaitOnIsClosed) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd source(sv[0]), peer(sv[1]);
  int target[2], unrelated[2];
  ASSERT_EQ(::pipe2(target, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(unrelated, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd target_read(target[0]), unrelated_read(unrelated[0]), unrelated_write(unrelated[1]);
  Outcome out;
  Operation op(&record, &out);
  // The socket is empty: the splice waits for its input, not for the pipe it writes to.
  op.prep_splice(source.get(), Operation::kCurrentPosition, target[1], Operation::kCurrentPosition,
                 64);
  loop().submit(op);
  loop().run_once(0ms);
  loop().run_once(0ms);
  loop().close_fd(target[1]);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.error(), std::errc::operation_canceled) << out.result.error().message();
  // Whatever holds the number now gets nothing from the socket.
  UniqueFd reused(::fcntl(unrelated_write.get(), F_DUPFD_CLOEXEC, target[1]));
  if (!GetParam().sqpoll || !GetParam().no_op_close) {  // (else released a turn later)
    ASSERT_EQ(reused.get(), target[1]) << "the test needs the number to be reused";
  }
  ASSERT_EQ(::send(peer.get(), "secret", 6, 0), 6);
  loop().run_once(20ms);
  char buf[16];
  EXPECT_EQ(::read(unrelated_read.get(), buf, sizeof buf), -1) << "the socket's bytes went astray";
  EXPECT_EQ(out.calls, 1);
}

TEST_P(CloseFdTest, ReusedNumbersNeverSeeTheOldOpsOrTheirCancels) {
  // Each round: a recv in flight on `a`, close_fd(a), then a new socket at a's number (once it is
  // free: at once, or once the kernel's queued close ran) must get its own data, and the old recv
  // must end ECANCELED: not with the new socket's bytes, and not never (a cancel resolved by fd
  // number after the close finds nothing or the wrong file, leaving the old recv waiting).
  int reused = 0;
  for (int round = 0; round < 300; ++round) {
    int old_pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, old_pair), 0);
    UniqueFd old_peer(old_pair[1]);
    const int old_fd = old_pair[0];
    char old_buf[8];
    Outcome old_out;
    Operation old_op(&record, &old_out);
    old_op.prep_recv(old_fd, old_buf, sizeof(old_buf));
    if (round % 2 == 1) old_op.set_timeout(10s);
    loop().submit(old_op);
    if (round % 3 != 0) loop().run_once(0ms);  // sometimes still unsubmitted when closed
    loop().close_fd(old_fd);
    // Wait until the number is free (under SQPOLL the kernel's queued close releases it), so
    // that the new socket below takes it over.
    ASSERT_TRUE(run_until(
        loop(), [&] { return ::fcntl(old_fd, F_GETFD) < 0; }, 5s));

    int fresh_pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fresh_pair), 0);
    UniqueFd fresh(fresh_pair[0]), fresh_peer(fresh_pair[1]);
    reused += fresh.get() == old_fd || fresh_peer.get() == old_fd;
    char fresh_buf[8];
    Outcome fresh_out;
    Operation fresh_op(&record, &fresh_out);
    fresh_op.prep_recv(fresh.get(), fresh_buf, sizeof(fresh_buf));
    fresh_op.set_timeout(5s);
    loop().submit(fresh_op);
    ASSERT_EQ(::send(fresh_peer.get(), "new", 3, MSG_NOSIGNAL), 3);

    ASSERT_TRUE(run_until(
        loop(), [&] { return old_out.calls == 1 && fresh_out.calls == 1; }, 5s))
        << "round " << round << ": old op calls " << old_out.calls << ", new op calls "
        << fresh_out.calls;
    EXPECT_EQ(old_out.result.error(), std::errc::operation_canceled)
        << "round " << round << ": " << old_out.result.raw();
    ASSERT_TRUE(fresh_out.result.ok())
        << "round " << round << ": " << fresh_out.result.error().message();
    EXPECT_EQ(std::string(fresh_buf, fresh_out.result.bytes()), "new") << "round " << round;
    // fresh is closed by UniqueFd with no op in flight.
  }
  RecordProperty("reused_numbers", reused);
  EXPECT_GT(reused, 0) << "the test never exercised a reused fd number";
}

}  // namespace
}  // namespace zap::zio
