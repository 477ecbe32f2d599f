#include "descriptor_limit.hpp"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace zap::app {
namespace {

// Lowers this test process's soft limit, then raises it back the way the daemons do.
TEST(DescriptorLimit, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max <= 64) GTEST_SKIP() << "hard limit too low to lower the soft one";
  rlimit lowered = original;
  lowered.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);

  const DescriptorLimit limit = raise_descriptor_limit();
  EXPECT_EQ(limit.was, 64u);
  EXPECT_EQ(limit.now, original.rlim_max);
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, original.rlim_max);
  EXPECT_EQ(after.rlim_max, original.rlim_max);

  // At the hard limit already: nothing to do.
  const DescriptorLimit again = raise_descriptor_limit();
  EXPECT_EQ(again.was, original.rlim_max);
  EXPECT_EQ(again.now, original.rlim_max);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
}

}  // namespace
}  // namespace zap::app
