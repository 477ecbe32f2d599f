#include "zap/zuma/thread.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "zap/zuma/this_thread.hpp"

namespace zap::zuma {
namespace {

// Touches `depth` KiB of stack through non-inlined recursion, so the frames are real.
[[gnu::noinline]] unsigned use_stack(unsigned depth) {
  volatile char frame[1024];
  std::memset(const_cast<char*>(frame), static_cast<int>(depth), sizeof(frame));
  if (depth == 0) return frame[7];
  return frame[depth % sizeof(frame)] + use_stack(depth - 1);
}

TEST(Thread, RunsTheCallableAndJoins) {
  std::atomic<int> runs{0};
  auto thread = Thread::spawn({}, [&] { runs.fetch_add(1, std::memory_order_relaxed); });
  ASSERT_TRUE(thread) << thread.error().message();
  EXPECT_TRUE(thread->joinable());
  EXPECT_FALSE(thread->join());
  EXPECT_FALSE(thread->joinable());
  EXPECT_EQ(runs.load(std::memory_order_relaxed), 1);  // join synchronises with the thread's end
}

TEST(Thread, SixtyFourKibStackRunsAFunctionUsingStack) {
  ThreadOptions options;
  options.stack_size = 64 * 1024;
  std::size_t stack_size = 0;
  unsigned sum = 0;
  auto thread = Thread::spawn(options, [&] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstacksize(&attr, &stack_size);
      pthread_attr_destroy(&attr);
    }
    sum = use_stack(16);  // ~16 KiB of frames
  });
  ASSERT_TRUE(thread) << thread.error().message();
  ASSERT_FALSE(thread->join());
#ifdef ZAP_SANITIZE
  EXPECT_GE(stack_size, 64u * 1024u);  // tsan's pthread_create raises small stacks (~900 KiB)
#else
  EXPECT_EQ(stack_size, 64u * 1024u);
#endif
  EXPECT_NE(sum, 0u);
}

TEST(Thread, NameIsSetBeforeTheCallableRuns) {
  ThreadOptions options;
  options.name = "zuma-test-name";  // 14 characters
  std::string seen_inside;
  char seen_outside[16] = {};
  std::atomic<bool> named{false};
  std::atomic<bool> release{false};
  auto thread = Thread::spawn(options, [&] {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
    seen_inside = buffer;
    named.store(true, std::memory_order_release);
    named.notify_one();
    release.wait(false, std::memory_order_acquire);  // stay alive while the name is read
  });
  ASSERT_TRUE(thread) << thread.error().message();
  named.wait(false, std::memory_order_acquire);
  EXPECT_EQ(pthread_getname_np(thread->native_handle(), seen_outside, sizeof(seen_outside)), 0);
  release.store(true, std::memory_order_release);
  release.notify_one();
  ASSERT_FALSE(thread->join());
  EXPECT_EQ(seen_inside, "zuma-test-name");
  EXPECT_STREQ(seen_outside, "zuma-test-name");
}

TEST(Thread, AffinityPinsTheThreadBeforeItRuns) {
  ThreadOptions options;
  options.affinity = CpuSet{0};
  Result<unsigned> cpu = std::make_error_code(std::errc::not_supported);
  Result<CpuSet> allowed = std::make_error_code(std::errc::not_supported);
  auto thread = Thread::spawn(options, [&] {
    cpu = this_thread::current_cpu();
    allowed = this_thread::affinity();
  });
  ASSERT_TRUE(thread) << thread.error().message();
  ASSERT_FALSE(thread->join());
  ASSERT_TRUE(cpu);
  EXPECT_EQ(*cpu, 0u);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(*allowed, CpuSet{0});
}

TEST(Thread, RejectsInvalidOptionsWithoutStartingAThread) {
  std::atomic<int> runs{0};
  auto body = [&] { runs.fetch_add(1, std::memory_order_relaxed); };

  ThreadOptions long_name;
  long_name.name = "sixteen-chars-xx";
  auto a = Thread::spawn(long_name, body);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), std::errc::invalid_argument);

  ThreadOptions tiny_stack;
  tiny_stack.stack_size = 1024;
  auto b = Thread::spawn(tiny_stack, body);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error(), std::errc::invalid_argument);

  ThreadOptions no_cpus;
  no_cpus.affinity = CpuSet{};
  auto c = Thread::spawn(no_cpus, body);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::invalid_argument);

  EXPECT_EQ(runs.load(std::memory_order_relaxed), 0);
}

TEST(Thread, AffinityToAMissingCpuIsAnErrorNotAnAbort) {
  ThreadOptions options;
  options.affinity = CpuSet{CpuSet::kMaxCpus - 1};
  auto thread = Thread::spawn(options, [] {});
  if (thread) {  // a machine with 1024 CPUs
    EXPECT_FALSE(thread->join());
  } else {
    EXPECT_EQ(thread.error(), std::errc::invalid_argument);
  }
}

TEST(Thread, IsMoveOnly) {
  static_assert(!std::is_copy_constructible_v<Thread>);
  static_assert(std::is_nothrow_move_constructible_v<Thread>);
  auto spawned = Thread::spawn({}, [] {});
  ASSERT_TRUE(spawned);
  Thread moved = *std::move(spawned);
  EXPECT_TRUE(moved.joinable());
  Thread target;
  target = std::move(moved);
  EXPECT_FALSE(moved.joinable());  // NOLINT(bugprone-use-after-move): moved-from state is defined
  EXPECT_TRUE(target.joinable());
  EXPECT_FALSE(target.join());
}

TEST(Thread, JoinAndDetachOfAnEmptyThreadAreErrors) {
  Thread empty;
  EXPECT_EQ(empty.join(), std::errc::invalid_argument);
  EXPECT_EQ(empty.detach(), std::errc::invalid_argument);
}

TEST(Thread, DetachedThreadRuns) {
  // Shared ownership: the detached thread may still be in notify_one() when the test returns.
  auto done = std::make_shared<std::atomic<bool>>(false);
  auto thread = Thread::spawn({}, [done] {
    done->store(true, std::memory_order_release);
    done->notify_one();
  });
  ASSERT_TRUE(thread);
  EXPECT_FALSE(thread->detach());
  EXPECT_FALSE(thread->joinable());
  done->wait(false, std::memory_order_acquire);
}

#ifndef ZAP_SANITIZE  // death tests fork a multi-threaded process, which tsan reports
TEST(ThreadDeathTest, DestroyingAJoinableThreadTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto thread = Thread::spawn({}, [] {});
        (void)thread;
      },
      "");
}
#endif

}  // namespace
}  // namespace zap::zuma
