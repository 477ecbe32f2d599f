// The epoll backend under a seccomp filter that refuses epoll_pwait2 with EPERM, as container
// profiles written before that call do for calls they do not know (Docker's defaultErrnoRet,
// systemd's SystemCallFilter): exactly where zio runs on epoll. The loop must fall back to
// epoll_wait, not take the error for "no events" and spin without ever delivering IO.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include "zio_test_support.hpp"

namespace zap::zio {
namespace {

using namespace std::chrono_literals;

#ifdef __NR_epoll_pwait2
bool refuse_epoll_pwait2() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_epoll_pwait2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{sizeof filter / sizeof filter[0], filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// In a child process (the filter cannot be taken off): 0 if a recv completed with its bytes.
int recv_under_the_filter() {
  if (!refuse_epoll_pwait2()) return 2;
  std::error_code ec;
  LoopOptions options;
  options.backend = BackendKind::epoll;
  auto loop = Loop::create(options, ec);
  if (!loop) return 3;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 4;
  char buf[16];
  testing::Outcome out;
  Operation op(&testing::record, &out);
  op.prep_recv(sv[0], buf, sizeof buf);
  loop->submit(op);
  loop->run_once(0ns);
  if (::send(sv[1], "hello", 5, 0) != 5) return 5;
  if (!testing::run_until(
          *loop, [&] { return out.calls == 1; }, 3s))
    return 6;
  return out.result.bytes() == 5 ? 0 : 7;
}

TEST(EpollUnderSeccomp, ARefusedEpollPwait2FallsBackToEpollWait) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(recv_under_the_filter());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: no filter, 3: no loop, 6: the recv never completed";
}
#endif

}  // namespace
}  // namespace zap::zio
