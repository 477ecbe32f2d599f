// An exception that ends a task nobody joins reaches the unobserved-exception handler, once;
// one that a joiner takes does not.
#include "zap/zell/unobserved_exception.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_config.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zell/runtime.hpp"

namespace zell = zap::zell;

namespace {

std::atomic<int> reports{0};
std::atomic<bool> last_was_boom{false};

void count_report(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const std::runtime_error& e) {
    last_was_boom.store(std::string(e.what()) == "boom", std::memory_order_relaxed);
  } catch (...) {
    last_was_boom.store(false, std::memory_order_relaxed);
  }
  reports.fetch_add(1, std::memory_order_release);
}

zell::Task<int> fails() {
  throw std::runtime_error("boom");
  co_return 0;
}
zell::Task<int> succeeds() { co_return 1; }

// Installs count_report for one test and restores the previous handler afterwards.
class UnobservedException : public ::testing::Test {
 protected:
  void SetUp() override {
    reports.store(0);
    previous_ = zell::set_unobserved_exception_handler(&count_report);
  }
  void TearDown() override { zell::set_unobserved_exception_handler(previous_); }

  static bool wait_for_reports(int n) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (reports.load(std::memory_order_acquire) < n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  zell::UnobservedExceptionHandler previous_ = nullptr;
};

}  // namespace

TEST_F(UnobservedException, DetachedTaskThatThrowsIsReported) {
  zell::Runtime runtime(zell_test::config());
  runtime.spawn(fails()).detach();
  ASSERT_TRUE(wait_for_reports(1));
  EXPECT_TRUE(last_was_boom.load());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(reports.load(), 1);  // once, not per reference dropped
}

TEST_F(UnobservedException, HandleDroppedAfterTheTaskFailedIsReported) {
  zell::Runtime runtime(zell_test::config());
  {
    zell::JoinHandle<int> handle = runtime.spawn(fails());
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!handle.is_finished() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(handle.is_finished());
    EXPECT_EQ(reports.load(), 0);  // the handle could still take it
  }
  EXPECT_EQ(reports.load(), 1);  // the last reference went with the handle
}

TEST_F(UnobservedException, JoinedExceptionsAndValuesAreNotReported) {
  zell::Runtime runtime(zell_test::config());
  EXPECT_THROW(runtime.spawn(fails()).get(), std::runtime_error);
  EXPECT_THROW(runtime.block_on(fails()), std::runtime_error);
  runtime.spawn(succeeds()).detach();
  EXPECT_EQ(runtime.spawn(succeeds()).get(), 1);
  runtime.shutdown();
  EXPECT_EQ(reports.load(), 0);
}

TEST(UnobservedExceptionDefault, SetReturnsThePreviousHandler) {
  // Nothing installed yet in this process (the fixture restores what it found): the default.
  auto first = zell::set_unobserved_exception_handler(&count_report);
  EXPECT_EQ(first, &zell::print_unobserved_exception);
  EXPECT_EQ(zell::set_unobserved_exception_handler(nullptr), &count_report);
}
