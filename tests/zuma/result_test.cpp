#include "zap/zuma/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "zap/zuma/error.hpp"
#include "zap/zuma/parse_error.hpp"

namespace zap::zuma {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return std::make_error_code(std::errc::invalid_argument);
  return n / 2;
}

TEST(Result, HoldsValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  EXPECT_EQ(ok.value_or(-1), 2);

  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), std::errc::invalid_argument);
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, SupportsMoveOnlyValuesAndCustomErrors) {
  Result<std::unique_ptr<int>, ParseError> ok = std::make_unique<int>(7);
  ASSERT_TRUE(ok.has_value());
  std::unique_ptr<int> taken = *std::move(ok);
  EXPECT_EQ(*taken, 7);

  Result<std::unique_ptr<int>, ParseError> bad = ParseError{"boom", 3};
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().to_string(), "at offset 3: boom");
}

TEST(Errc, HasItsOwnCategoryAndMessages) {
  const std::error_code ec = Errc::kNumaUnavailable;
  EXPECT_EQ(ec.category().name(), std::string("zap.zuma"));
  EXPECT_EQ(ec, Errc::kNumaUnavailable);
  EXPECT_NE(ec, Errc::kNoSuchNode);
  EXPECT_FALSE(ec.message().empty());
  EXPECT_FALSE(std::error_code(Errc::kMalformedSystemFile).message().empty());
}

}  // namespace
}  // namespace zap::zuma
