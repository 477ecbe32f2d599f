#include "zap/zync/lazy.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace zap::zync {
namespace {

TEST(Lazy, BuildsOnFirstGetOnly) {
  static int calls = 0;
  calls = 0;
  Lazy<std::string> lazy([] {
    ++calls;
    return std::string("hello");
  });
  EXPECT_FALSE(lazy.is_initialized());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(lazy.get(), "hello");
  EXPECT_EQ(*lazy, "hello");
  EXPECT_EQ(lazy->size(), 5u);
  EXPECT_TRUE(lazy.is_initialized());
  EXPECT_EQ(calls, 1);
}

TEST(Lazy, GetReturnsAMutableReferenceToOneValue) {
  Lazy<std::vector<int>> lazy([] { return std::vector<int>{1, 2}; });
  lazy.get().push_back(3);
  EXPECT_EQ(lazy.get().size(), 3u);
  EXPECT_EQ(&lazy.get(), &*lazy);
}

TEST(Lazy, DeducesTheTypeFromACapturingInitializer) {
  int base = 40;
  Lazy lazy{[&] { return base + 2; }};
  static_assert(std::is_same_v<decltype(lazy.get()), int&>);
  EXPECT_EQ(lazy.get(), 42);
}

TEST(Lazy, DestroysTheValueOnlyIfBuilt) {
  static int destroyed = 0;
  struct Counted {
    ~Counted() { ++destroyed; }
  };
  destroyed = 0;
  {
    Lazy<Counted> unused([] { return Counted{}; });
  }
  EXPECT_EQ(destroyed, 0);
  {
    Lazy<Counted> used([] { return Counted{}; });
    used.get();
    destroyed = 0;  // forget the temporaries of the initializer
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(Lazy, ThrowingInitializerLeavesItEmptyForARetry) {
  static int attempts = 0;
  attempts = 0;
  Lazy<int> lazy([] {
    if (++attempts == 1) throw std::runtime_error("first attempt fails");
    return 7;
  });
  EXPECT_THROW(lazy.get(), std::runtime_error);
  EXPECT_FALSE(lazy.is_initialized());
  EXPECT_EQ(lazy.get(), 7);
  EXPECT_EQ(attempts, 2);
}

TEST(Lazy, ConcurrentGetsBuildExactlyOnce) {
  constexpr int kThreads = 8;
  std::atomic<int> calls{0};
  for (int round = 0; round < 50; ++round) {
    calls = 0;
    Lazy lazy{[&] {
      calls.fetch_add(1, std::memory_order_relaxed);
      return std::vector<int>(100, 3);  // several fields: a torn publish would show
    }};
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        const auto& v = lazy.get();
        if (v.size() == 100 && v[99] == 3) good.fetch_add(1, std::memory_order_relaxed);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(calls.load(), 1);
    ASSERT_EQ(good.load(), kThreads);
  }
}

}  // namespace
}  // namespace zap::zync
