// The epoll backend's registrations (epoll_backend.hpp, FdState): a socket is registered once; a
// wait on it costs no epoll_ctl of its own unless it lasts kVerifyAfterNs (10 ms), when its
// registration is checked once; and a number closed and reused behind the loop's back is still
// served, by that check. epoll_ctl is counted by defining it here: the executable's definition
// is the one zio's calls reach, and it passes each call on to the kernel.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "zio_test_support.hpp"

namespace {
std::atomic<int> g_adds{0};
std::atomic<int> g_mods{0};
}  // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  if (op == EPOLL_CTL_ADD) g_adds.fetch_add(1, std::memory_order_relaxed);
  if (op == EPOLL_CTL_MOD) g_mods.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(::syscall(SYS_epoll_ctl, epfd, op, fd, event));
}

namespace zap::zio {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::record;
using testing::run_until;

class EpollRegistration : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = testing::make_loop(BackendKind::epoll);
    ASSERT_TRUE(loop_);
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    mine_ = UniqueFd(sv[0]);
    peer_ = UniqueFd(sv[1]);
  }

  // One recv on `fd` that waits (the peer writes only once it is parked), then gets one byte.
  void round_trip(int fd, int peer) {
    Outcome out;
    char buf[64];
    Operation op(&record, &out);
    op.prep_recv(fd, buf, sizeof buf);
    loop_->submit(op);
    loop_->run_once(0ns);
    ASSERT_EQ(out.calls, 0) << "the recv was meant to wait";
    ASSERT_EQ(::send(peer, "x", 1, 0), 1);
    ASSERT_TRUE(run_until(
        *loop_, [&] { return out.calls == 1; }, 5s));
    ASSERT_EQ(out.result.bytes(), 1u) << out.result.error().message();
  }

  // Turns the loop with long waits (not run_until's 100 ms slices), so that only the backend's
  // own bound on a wait -- the registration check -- can end one early.
  template <typename Pred>
  bool run_with_long_waits(Pred done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0ns) return false;
      loop_->run_once(left);
    }
    return true;
  }

  // Closes `number`'s file behind the loop's back and puts a new socket of a new pair at that
  // number; returns the new pair's other end.
  static UniqueFd replace_behind_the_loops_back(int number) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    // The old file is gone (its only descriptor), and epoll with it forgets its registration.
    EXPECT_EQ(::dup3(sv[0], number, O_CLOEXEC), number);
    ::close(sv[0]);
    return UniqueFd(sv[1]);
  }

  std::unique_ptr<Loop> loop_;
  UniqueFd mine_;
  UniqueFd peer_;
};

TEST_F(EpollRegistration, RequestResponseWaitsCostNoEpollCtl) {
  constexpr int kRounds = 200;
  const int adds = g_adds.load();
  const int mods = g_mods.load();
  for (int i = 0; i < kRounds; ++i) ASSERT_NO_FATAL_FAILURE(round_trip(mine_.get(), peer_.get()));
  EXPECT_EQ(g_adds.load() - adds, 1) << "registered on the first wait (or epoll_ctl not counted)";
  // Each wait lasts well under 10 ms; a slow spell of the machine may let a few be checked.
  // Before: one EPOLL_CTL_MOD per wait.
  EXPECT_LT(g_mods.load() - mods, kRounds / 4);
}

TEST_F(EpollRegistration, AWaitThatLastsIsCheckedOnce) {
  ASSERT_NO_FATAL_FAILURE(round_trip(mine_.get(), peer_.get()));  // registered
  const int mods = g_mods.load();
  Outcome out;
  char buf[64];
  Operation op(&record, &out);
  op.prep_recv(mine_.get(), buf, sizeof buf);
  loop_->submit(op);
  EXPECT_FALSE(run_until(
      *loop_, [&] { return out.calls == 1; }, 300ms));  // the check is due at ~10 ms
  EXPECT_EQ(g_mods.load() - mods, 1) << "one check, ~10 ms into the wait, and no more";
  ASSERT_EQ(::send(peer_.get(), "y", 1, 0), 1);
  ASSERT_TRUE(run_until(
      *loop_, [&] { return out.calls == 1; }, 5s));
  EXPECT_EQ(out.result.bytes(), 1u);
}

TEST_F(EpollRegistration, ANumberReusedBehindTheLoopsBackIsServedAfterTheCheck) {
  ASSERT_NO_FATAL_FAILURE(round_trip(mine_.get(), peer_.get()));  // registered
  const UniqueFd new_peer = replace_behind_the_loops_back(mine_.get());
  const int adds = g_adds.load();
  Outcome out;
  char buf[64];
  Operation op(&record, &out);
  op.prep_recv(mine_.get(), buf, sizeof buf);
  loop_->submit(op);
  loop_->run_once(0ns);
  ASSERT_EQ(::send(new_peer.get(), "z", 1, 0), 1);
  const auto start = std::chrono::steady_clock::now();
  // ~10 ms (the check); a wait the check did not bound would end only at the 3 s limit.
  ASSERT_TRUE(run_with_long_waits([&] { return out.calls == 1; }, 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(out.result.bytes(), 1u) << out.result.error().message();
  EXPECT_EQ(g_adds.load() - adds, 1) << "the check found another file and registered it";
}

// A deadline shorter than the check's delay, and the op resubmitted after each timeout: the
// check pending from the first wait is not postponed by the later ones, so the data is read.
TEST_F(EpollRegistration, ShortDeadlinesResubmittedDoNotPostponeTheCheck) {
  ASSERT_NO_FATAL_FAILURE(round_trip(mine_.get(), peer_.get()));  // registered
  const UniqueFd new_peer = replace_behind_the_loops_back(mine_.get());
  ASSERT_EQ(::send(new_peer.get(), "w", 1, 0), 1);
  Outcome out;
  char buf[64];
  Operation op(&record, &out);
  int timeouts = 0;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  for (;;) {
    out = Outcome{};
    op.prep_recv(mine_.get(), buf, sizeof buf);
    op.set_timeout(3ms);
    loop_->submit(op);
    ASSERT_TRUE(run_until(
        *loop_, [&] { return out.calls == 1; }, 3s));
    if (out.result || std::chrono::steady_clock::now() > deadline) break;
    ASSERT_EQ(out.result.error(), std::errc::timed_out) << out.result.error().message();
    ++timeouts;
  }
  ASSERT_TRUE(out.result) << "still " << out.result.error().message() << " after " << timeouts
                          << " timeouts";
  EXPECT_EQ(out.result.bytes(), 1u);
}

// A recv stops at TCP's urgent mark with data queued behind it, and no new edge comes for that
// data. The backend sees EPOLLPRI and no longer takes a short read for an empty socket: the next
// recv reads at once, instead of waiting for a registration check (10 ms a mark).
TEST_F(EpollRegistration, DataBehindTheUrgentMarkIsReadAtOnce) {
  UniqueFd listener;
  const SocketAddress to = testing::listen_loopback(listener);
  auto [ours, peer] = testing::connected_pair(*loop_, listener.get(), to);
  ASSERT_TRUE(ours && peer);
  ASSERT_NO_FATAL_FAILURE(round_trip(ours.get(), peer.get()));  // registered; a short read
  ASSERT_EQ(::send(peer.get(), "abc", 3, 0), 3);
  ASSERT_EQ(::send(peer.get(), "!", 1, MSG_OOB), 1);
  ASSERT_EQ(::send(peer.get(), "def", 3, 0), 3);
  pollfd urgent{ours.get(), POLLPRI, 0};
  ASSERT_EQ(::poll(&urgent, 1, 2000), 1) << "the urgent byte did not arrive";
  char buf[64];
  Outcome first;
  Operation op(&record, &first);
  op.prep_recv(ours.get(), buf, sizeof buf);
  loop_->submit(op);
  ASSERT_TRUE(run_until(
      *loop_, [&] { return first.calls == 1; }, 5s));
  ASSERT_EQ(std::string(buf, first.result.bytes()), "abc") << "stopped at the mark";
  Outcome second;
  op.set_callback(&record, &second);
  op.prep_recv(ours.get(), buf, sizeof buf);
  loop_->submit(op);
  loop_->run_once(0ns);
  ASSERT_EQ(second.calls, 1) << "the data behind the mark waits for a check";
  EXPECT_EQ(std::string(buf, second.result.bytes()), "def");
}

TEST_F(EpollRegistration, AConnectRegistersItsSocketWithoutWaitingForACheck) {
  UniqueFd listener;
  const SocketAddress to = testing::listen_loopback(listener);
  ASSERT_NO_FATAL_FAILURE(round_trip(mine_.get(), peer_.get()));  // this number, registered
  const int number = mine_.get();
  std::error_code ec;
  UniqueFd socket = open_socket(to.family(), SOCK_STREAM, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(::dup3(socket.get(), number, O_CLOEXEC), number);  // closes the old file behind
  socket.reset();                                              // the loop's back
  const int adds = g_adds.load();
  const int mods = g_mods.load();
  Outcome out;
  Operation op(&record, &out);
  op.prep_connect(number, to);
  loop_->submit(op);
  ASSERT_TRUE(run_until(
      *loop_, [&] { return out.calls == 1; }, 5s));
  EXPECT_TRUE(out.result) << out.result.error().message();
  EXPECT_EQ(g_adds.load() - adds, 1) << "the connect waited (EINPROGRESS) on a new registration";
  EXPECT_EQ(g_mods.load() - mods, 0) << "a connecting socket is new: added, not checked";
}

}  // namespace
}  // namespace zap::zio
