#include "zap/zio/loop.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::BackendTest;
using testing::run_until;

struct Outcome {
  int calls = 0;
  Result result;
};

void record(Operation& op, Result r) {
  auto* out = static_cast<Outcome*>(op.user());
  ++out->calls;
  out->result = r;
}

class LoopTest : public BackendTest {};
ZIO_INSTANTIATE_BACKENDS(LoopTest);

TEST_P(LoopTest, NopCompletesInsideRunOnceNotInsideSubmit) {
  Outcome out;
  Operation op(&record, &out);
  op.prep_nop();
  loop().submit(op);
  EXPECT_EQ(out.calls, 0);
  EXPECT_TRUE(op.busy());
  EXPECT_EQ(loop().pending(), 1u);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_TRUE(out.result.ok());
  EXPECT_FALSE(op.busy());
  EXPECT_EQ(loop().pending(), 0u);
}

TEST_P(LoopTest, TimerFiresAfterItsDuration) {
  Outcome out;
  Operation op(&record, &out);
  op.prep_timeout(20ms);
  const auto start = std::chrono::steady_clock::now();
  loop().submit(op);
  ASSERT_TRUE(run_until(loop(), [&] { return out.calls == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 19ms);
  EXPECT_TRUE(out.result.ok()) << out.result.error().message();
}

TEST_P(LoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> order;
  struct Slot {
    std::vector<int>* order;
    int id;
  } slots[3] = {{&order, 0}, {&order, 1}, {&order, 2}};
  Operation ops[3];
  const std::chrono::milliseconds after[3] = {30ms, 10ms, 20ms};
  for (int i = 0; i < 3; ++i) {
    ops[i].set_callback(
        [](Operation& op, Result) {
          auto* s = static_cast<Slot*>(op.user());
          s->order->push_back(s->id);
        },
        &slots[i]);
    ops[i].prep_timeout(after[i]);
    loop().submit(ops[i]);
  }
  ASSERT_TRUE(run_until(loop(), [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
}

TEST_P(LoopTest, CancelledTimerCompletesOnceWithEcanceled) {
  Outcome out;
  Operation op(&record, &out);
  op.prep_timeout(10s);
  loop().submit(op);
  loop().run_once(0ns);  // in flight in the kernel (io_uring) / in the heap (epoll)
  loop().cancel(op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.error(), std::errc::operation_canceled);
  loop().run_once(10ms);
  EXPECT_EQ(out.calls, 1);
}

TEST_P(LoopTest, CancelBeforeFirstTurnAlsoCompletes) {
  Outcome out;
  Operation op(&record, &out);
  op.prep_timeout(10s);
  loop().submit(op);
  loop().cancel(op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.error(), std::errc::operation_canceled);
}

// A short deadline (the precise clock) and one of a second (armed from the coarse clock, which
// lags the precise one by up to a tick; see deadline_clock.hpp): neither may pass early.
TEST_P(LoopTest, DeadlineFailsASilentRecvWithEtimedout) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  char buf[16];
  Outcome out;
  Operation op(&record, &out);
  int calls = 0;
  for (const std::chrono::milliseconds timeout : {30ms, 1000ms}) {
    op.prep_recv(sv[0], buf, sizeof(buf));
    op.set_timeout(timeout);
    const auto start = std::chrono::steady_clock::now();
    loop().submit(op);
    ASSERT_TRUE(run_until(
        loop(), [&] { return out.calls == calls + 1; }, 5s));
    ++calls;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(out.result.error(), std::errc::timed_out);
    EXPECT_GE(elapsed, timeout) << "fired early";
    EXPECT_LT(elapsed, timeout + 2s);
  }
  // The socket is still usable afterwards.
  ASSERT_EQ(::send(sv[1], "x", 1, 0), 1);
  op.prep_recv(sv[0], buf, sizeof(buf));
  op.set_timeout(5s);
  loop().submit(op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == calls + 1; }, 5s));
  EXPECT_EQ(out.result.bytes(), 1u);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopTest, DeadlineDoesNotFireWhenTheOpCompletesFirst) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(::send(sv[1], "hello", 5, 0), 5);
  char buf[16];
  Outcome out;
  Operation op(&record, &out);
  op.prep_recv(sv[0], buf, sizeof(buf));
  op.set_timeout(20ms);
  loop().submit(op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.bytes(), 5u);
  Outcome timer_out;  // outlive the former deadline: nothing else may be delivered
  Operation timer(&record, &timer_out);
  timer.prep_timeout(40ms);
  loop().submit(timer);
  ASSERT_TRUE(run_until(
      loop(), [&] { return timer_out.calls == 1; }, 5s));
  EXPECT_EQ(out.calls, 1);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopTest, AWaitWithoutATimeoutEndsAtTheEarliestDeadline) {
  // run_once(kForever) must not sleep past a deadline: the loop bounds its wait by the earliest
  // one. A watchdog wakes the loop after 3 s, so a loop that sleeps on fails instead of hanging.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  char buf[16];
  Outcome out;
  Operation op(&record, &out);
  op.prep_recv(a.get(), buf, sizeof(buf));
  op.set_timeout(30ms);
  const auto start = std::chrono::steady_clock::now();
  loop().submit(op);
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && !done.load(); ++i) std::this_thread::sleep_for(10ms);
    loop().wake();
  });
  for (int turn = 0; turn < 8 && out.calls == 0; ++turn) loop().run_once(Loop::kForever);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  done = true;
  watchdog.join();
  ASSERT_EQ(out.calls, 1);
  EXPECT_EQ(out.result.error(), std::errc::timed_out);
  EXPECT_LT(elapsed, 2s);
}

TEST_P(LoopTest, ManyDeadlinesOnASmallRingAllFire) {
  // 4 SQ entries (16 CQ) and 64 silent recvs whose deadlines pass together: the SQ is refilled
  // many times over for the recvs and again for their cancels, and the completions overflow the
  // CQ. Every op ends ETIMEDOUT, once, and the loop stays usable.
  LoopOptions options;
  options.backend = GetParam();
  options.entries = 4;
  std::error_code ec;
  auto small = Loop::create(options, ec);
  ASSERT_TRUE(small) << ec.message();
  constexpr int kOps = 64;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  std::vector<UniqueFd> fds;
  std::vector<Outcome> outs(kOps);
  std::vector<std::unique_ptr<Operation>> ops;
  char buf[kOps][8];
  for (int i = 0; i < kOps; ++i) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
    fds.emplace_back(pair[0]);
    fds.emplace_back(pair[1]);
    ops.push_back(std::make_unique<Operation>(&record, &outs[i]));
    ops.back()->prep_recv(pair[0], buf[i], sizeof(buf[i]));
    ops.back()->set_timeout(std::chrono::milliseconds(50 + i % 4));
    small->submit(*ops.back());
  }
  ASSERT_TRUE(run_until(*small, [&] {
    for (const Outcome& o : outs)
      if (o.calls == 0) return false;
    return true;
  }));
  for (int i = 0; i < kOps; ++i) {
    EXPECT_EQ(outs[i].calls, 1) << "op " << i;
    EXPECT_EQ(outs[i].result.error(), std::errc::timed_out) << "op " << i;
  }
  EXPECT_EQ(small->pending(), 0u);
  // Still usable: a recv with data completes.
  ASSERT_EQ(::send(b.get(), "z", 1, 0), 1);
  Outcome last;
  Operation op(&record, &last);
  char one[4];
  op.prep_recv(a.get(), one, sizeof(one));
  op.set_timeout(5s);
  small->submit(op);
  ASSERT_TRUE(run_until(*small, [&] { return last.calls == 1; }));
  EXPECT_EQ(last.result.bytes(), 1u);
}

TEST_P(LoopTest, WakeFromAnotherThreadEndsAWait) {
  std::atomic<bool> flag{false};
  std::thread waker([&] {
    std::this_thread::sleep_for(
        20ms);  // let the loop block first (the wake must not be lost either way)
    flag.store(true, std::memory_order_release);
    loop().wake();
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!flag.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
    loop().run_once(Loop::kForever);
  EXPECT_TRUE(flag.load());
  waker.join();
}

TEST_P(LoopTest, ManyWakesCoalesceAndTheLoopStaysUsable) {
  std::thread wakers[2];
  for (auto& t : wakers)
    t = std::thread([&] {
      for (int i = 0; i < 10000; ++i) loop().wake();
    });
  for (auto& t : wakers) t.join();
  loop().run_once(0ns);
  loop().run_once(0ns);
  Outcome out;
  Operation op(&record, &out);
  op.prep_timeout(5ms);
  loop().submit(op);
  ASSERT_TRUE(run_until(
      loop(), [&] { return out.calls == 1; }, 5s));
}

TEST_P(LoopTest, StopFromAnotherThreadEndsRun) {
  std::thread stopper([&] { loop().stop(); });
  loop().run();  // returns whether stop() came before or during run()
  stopper.join();
  SUCCEED();
}

TEST_P(LoopTest, MoreOpsThanTheQueueHoldsAllComplete) {
  LoopOptions options;
  options.backend = GetParam();
  options.entries = 8;  // io_uring: an 8-entry SQ overflows into the backlog
  std::error_code ec;
  auto small = Loop::create(options, ec);
  ASSERT_TRUE(small) << ec.message();
  constexpr int kOps = 1000;
  std::vector<Operation> ops(kOps);
  int completed = 0;
  for (auto& op : ops) {
    op.set_callback(
        [](Operation& o, Result r) {
          EXPECT_TRUE(r.ok());
          ++*static_cast<int*>(o.user());
        },
        &completed);
    op.prep_nop();
    small->submit(op);
  }
  ASSERT_TRUE(run_until(*small, [&] { return completed == kOps; }));
  EXPECT_EQ(small->pending(), 0u);
}

TEST_P(LoopTest, ReportsItsBackendAndWhy) {
  EXPECT_FALSE(loop().backend_reason().empty());
  EXPECT_NE(loop().backend_reason().find(to_string(GetParam())), std::string_view::npos)
      << loop().backend_reason();
}

TEST(LoopSelection, EnvironmentPicksTheBackendWhenOptionsSayAutomatic) {
  ::setenv("ZAP_IO_BACKEND", "epoll", 1);
  std::error_code ec;
  auto loop = Loop::create({}, ec);
  ASSERT_TRUE(loop) << ec.message();
  EXPECT_EQ(loop->backend(), BackendKind::epoll);
  EXPECT_NE(loop->backend_reason().find("ZAP_IO_BACKEND=epoll"), std::string_view::npos);
  LoopOptions explicit_uring;
  explicit_uring.backend = BackendKind::io_uring;  // the API wins over the environment
  auto other = Loop::create(explicit_uring, ec);
  ::unsetenv("ZAP_IO_BACKEND");
  ASSERT_TRUE(other) << ec.message();
  EXPECT_EQ(other->backend(), BackendKind::io_uring);
}

TEST(LoopSelection, AutomaticPrefersIoUringHere) {
  ::unsetenv("ZAP_IO_BACKEND");
  std::error_code ec;
  auto loop = Loop::create({}, ec);
  ASSERT_TRUE(loop) << ec.message();
  std::printf("%.*s\n", static_cast<int>(loop->backend_reason().size()),
              loop->backend_reason().data());
  EXPECT_EQ(loop->backend(), BackendKind::io_uring);  // the test machine has io_uring
}

// nanoseconds::max() means "practically never": the expiry must saturate, not wrap into the past.
TEST_P(LoopTest, ForeverTimerAndDeadlineDoNotFire) {
  Outcome timer_out, recv_out;
  Operation timer(&record, &timer_out);
  timer.prep_timeout(std::chrono::nanoseconds::max());
  loop().submit(timer);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  char buf[8];
  Operation r(&record, &recv_out);
  r.prep_recv(a.get(), buf, sizeof(buf));
  r.set_timeout(std::chrono::nanoseconds::max());
  loop().submit(r);
  for (int i = 0; i < 3; ++i) loop().run_once(20ms);
  EXPECT_EQ(timer_out.calls, 0) << timer_out.result.error().message();
  EXPECT_EQ(recv_out.calls, 0) << recv_out.result.error().message();
  loop().cancel(timer);
  loop().cancel(r);
  ASSERT_TRUE(run_until(loop(), [&] { return timer_out.calls == 1 && recv_out.calls == 1; }));
  EXPECT_EQ(timer_out.result.error(), std::errc::operation_canceled);
  EXPECT_EQ(recv_out.result.error(), std::errc::operation_canceled);
}

// run_once(0) in a busy loop, never blocking: a completion that the kernel finished while the
// loop thread made no syscall must still show up (io_uring COOP_TASKRUN defers it as task work).
TEST_P(LoopTest, BusyPollingRunOnceSeesARecvCompletion) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  char buf[8];
  Outcome out;
  Operation r(&record, &out);
  r.prep_recv(a.get(), buf, sizeof(buf));
  loop().submit(r);
  loop().run_once(0ns);
  loop().run_once(0ns);
  std::atomic<bool> polling{false};
  std::thread peer([&] {
    while (!polling.load(std::memory_order_acquire)) std::this_thread::yield();
    EXPECT_EQ(::send(b.get(), "x", 1, MSG_NOSIGNAL), 1);
  });
  polling.store(true, std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (out.calls == 0 && std::chrono::steady_clock::now() < deadline) loop().run_once(0ns);
  peer.join();
  const int calls_while_polling = out.calls;
  if (calls_while_polling == 0)
    run_until(
        loop(), [&] { return out.calls == 1; }, 1s);
  EXPECT_EQ(calls_while_polling, 1);
  EXPECT_EQ(out.result.bytes(), 1u) << out.result.error().message();
}

// Destroying a loop with a recv in flight must leave the kernel with no access to its buffer:
// data sent afterwards stays in the socket, and the (then freed) buffer is never written.
TEST_P(LoopTest, DestroyingTheLoopWithARecvInFlightReleasesItsBuffer) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  for (int round = 0; round < 20; ++round) {
    auto lp = testing::make_loop(GetParam());
    ASSERT_TRUE(lp);
    auto buf = std::make_unique<char[]>(64);
    std::memset(buf.get(), 'x', 64);
    Outcome out;
    Operation r(&record, &out);
    r.prep_recv(a.get(), buf.get(), 64);
    lp->submit(r);
    lp->run_once(0ns);
    ASSERT_EQ(out.calls, 0);
    lp.reset();  // abandons r: no callback
    ASSERT_EQ(::send(b.get(), "late", 4, MSG_NOSIGNAL), 4);
    EXPECT_EQ(out.calls, 0);
    EXPECT_EQ(buf[0], 'x') << "round " << round << ": the kernel wrote after ~Loop";
    buf.reset();
    char got[8] = {};
    pollfd p{a.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);
    ASSERT_EQ(::recv(a.get(), got, sizeof(got), 0), 4) << "round " << round;
    EXPECT_EQ(std::string(got, 4), "late");
  }
}

}  // namespace
}  // namespace zap::zio

namespace zap::zio {
namespace {

// An io_uring loop with SQPOLL and `entries` SQEs; nullptr (and `why`) where SQPOLL is refused.
std::unique_ptr<Loop> make_sqpoll_loop(unsigned entries, std::string& why) {
  LoopOptions options;
  options.backend = BackendKind::io_uring;
  options.sqpoll = true;
  options.sqpoll_idle_ms = 10;  // the SQ thread also falls asleep between bursts
  if (entries > 0) options.entries = entries;
  std::error_code ec;
  auto loop = Loop::create(options, ec);
  why = ec.message();
  return loop;
}

TEST(LoopOptionsTest, SqpollRingRunsOpsAndTimers) {
  std::string why;
  auto loop = make_sqpoll_loop(0, why);
  if (!loop) GTEST_SKIP() << "SQPOLL unavailable: " << why;
  EXPECT_NE(loop->backend_reason().find("sqpoll"), std::string_view::npos);
  testing::Outcome nop_out, timer_out;
  Operation nop(&testing::record, &nop_out), timer(&testing::record, &timer_out);
  nop.prep_nop();
  timer.prep_timeout(std::chrono::milliseconds(5));
  loop->submit(nop);
  loop->submit(timer);
  ASSERT_TRUE(
      testing::run_until(*loop, [&] { return nop_out.calls == 1 && timer_out.calls == 1; }));
  EXPECT_TRUE(nop_out.result.ok());
  EXPECT_TRUE(timer_out.result.ok());
}

// More ops than the SQ holds, under SQPOLL: io_uring_submit only wakes the kernel's thread, so
// room for the rest appears a moment later. They must still reach the kernel (not wait in the
// backlog for a completion that never comes), and so must the wake-up read that stop() needs.
TEST(LoopOptionsTest, SqpollRingTakesMoreOpsThanItsQueueAndStillWakes) {
  std::string why;
  auto loop = make_sqpoll_loop(8, why);
  if (!loop) GTEST_SKIP() << "SQPOLL unavailable: " << why;
  constexpr int kOps = 40;
  struct Receiver {
    UniqueFd ours, peer;
    char buf[16];
    testing::Outcome out;
    Operation op;
  };
  std::vector<std::unique_ptr<Receiver>> receivers;
  for (int i = 0; i < kOps; ++i) {
    auto r = std::make_unique<Receiver>();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    r->ours = UniqueFd(sv[0]);
    r->peer = UniqueFd(sv[1]);
    r->op.set_callback(&testing::record, &r->out);
    r->op.prep_recv(sv[0], r->buf, sizeof r->buf);
    loop->submit(r->op);
    receivers.push_back(std::move(r));
  }
  ASSERT_EQ(::send(receivers.back()->peer.get(), "x", 1, 0), 1);  // only the last one gets data
  std::atomic<bool> returned{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    loop->stop();
  });
  std::thread watchdog([&] {  // a hang must fail the test, not the suite: data for every recv
    for (int i = 0; i < 500 && !returned; ++i) std::this_thread::sleep_for(10ms);
    if (!returned) {
      for (auto& r : receivers) (void)::send(r->peer.get(), "x", 1, 0);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  loop->run();
  returned = true;
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  watchdog.join();
  EXPECT_LT(took, 3s) << "stop() did not wake the loop";
  EXPECT_EQ(receivers.back()->out.calls, 1) << "the last recv never reached the kernel";
  EXPECT_EQ(receivers.back()->out.result.bytes(), 1u);
  for (auto& r : receivers) loop->cancel(r->op);
  ASSERT_TRUE(testing::run_until(
      *loop, [&] { return loop->pending() == 0; }, 5s));
}

// An op a destroyed loop abandoned with a deadline is prepared again and submitted to a new loop
// without one: it completes once, and the new loop's own deadlines still fire. (io_uring kept the
// old loop's heap position in the op, and the new loop's run_once crashed removing it.)
TEST_P(LoopTest, AnOpAbandonedWithADeadlineServesANewLoop) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  char buf[16];
  Outcome out;
  Operation op(&record, &out);
  {
    auto first = testing::make_loop(GetParam());
    ASSERT_TRUE(first);
    op.prep_recv(a.get(), buf, sizeof buf);
    op.set_timeout(10s);
    first->submit(op);
    first->run_once(0ns);
  }  // abandoned: no callback
  EXPECT_EQ(out.calls, 0);
  auto second = testing::make_loop(GetParam());
  ASSERT_TRUE(second);
  op.prep_recv(a.get(), buf, sizeof buf);
  second->submit(op);
  ASSERT_EQ(::send(b.get(), "hi", 2, MSG_NOSIGNAL), 2);
  ASSERT_TRUE(run_until(*second, [&] { return out.calls == 1; }));
  EXPECT_EQ(out.result.raw(), 2);
  Outcome late;
  Operation timed(&record, &late);
  timed.prep_recv(a.get(), buf, sizeof buf);
  timed.set_timeout(50ms);
  second->submit(timed);
  ASSERT_TRUE(run_until(*second, [&] { return late.calls == 1; }));
  EXPECT_EQ(late.result.raw(), -ETIMEDOUT);
}

}  // namespace
}  // namespace zap::zio
