#include "zap/zuma/this_thread.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include "zap/zuma/thread.hpp"

namespace zap::zuma {
namespace {

// Each test runs its body on a fresh thread so that names and affinity of the main thread are
// left alone.
template <typename F>
void on_new_thread(F body) {
  auto thread = Thread::spawn({}, body);
  ASSERT_TRUE(thread) << thread.error().message();
  ASSERT_FALSE(thread->join());
}

TEST(ThisThread, SetNameIsReadableBack) {
  on_new_thread([] {
    EXPECT_FALSE(this_thread::set_name("zuma-self"));
    char buffer[16] = {};
    ASSERT_EQ(pthread_getname_np(pthread_self(), buffer, sizeof(buffer)), 0);
    EXPECT_STREQ(buffer, "zuma-self");
    auto name = this_thread::name();
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "zuma-self");
  });
}

TEST(ThisThread, SetNameRejectsTooLongNames) {
  on_new_thread([] {
    EXPECT_EQ(this_thread::set_name("0123456789abcdef"), std::errc::invalid_argument);
    EXPECT_FALSE(this_thread::set_name("0123456789abcde"));  // exactly 15
  });
}

TEST(ThisThread, PinningToCpuZeroRunsOnCpuZero) {
  on_new_thread([] {
    ASSERT_FALSE(this_thread::set_affinity(CpuSet{0}));
    auto cpu = this_thread::current_cpu();
    ASSERT_TRUE(cpu) << cpu.error().message();
    EXPECT_EQ(*cpu, 0u);
    auto allowed = this_thread::affinity();
    ASSERT_TRUE(allowed);
    EXPECT_EQ(*allowed, CpuSet{0});
  });
}

TEST(ThisThread, PinningToEachAllowedCpuIsObserved) {
  auto allowed = this_thread::affinity();
  ASSERT_TRUE(allowed);
  for (unsigned target : *allowed) {
    on_new_thread([target] {
      ASSERT_FALSE(this_thread::set_affinity(CpuSet{target}));
      auto cpu = this_thread::current_cpu();
      ASSERT_TRUE(cpu);
      EXPECT_EQ(*cpu, target);
    });
  }
}

TEST(ThisThread, EmptyAffinityIsRejected) {
  EXPECT_EQ(this_thread::set_affinity(CpuSet{}), std::errc::invalid_argument);
}

TEST(ThisThread, AffinityCoversOnlineCpus) {
  auto allowed = this_thread::affinity();
  ASSERT_TRUE(allowed);
  EXPECT_GE(allowed->count(), 1u);
  EXPECT_LE(allowed->count(), static_cast<std::size_t>(sysconf(_SC_NPROCESSORS_ONLN)));
}

TEST(ThisThread, CurrentNodeIsKnown) {
  auto node = this_thread::current_node();
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_LT(*node, 1024u);
}

}  // namespace
}  // namespace zap::zuma
