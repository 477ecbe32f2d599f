#include "zap/zuma/cpu_set.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace zap::zuma {
namespace {

std::vector<unsigned> cpus_of(const CpuSet& set) { return {set.begin(), set.end()}; }

TEST(CpuSet, ParsesSingleCpusAndRanges) {
  auto set = CpuSet::parse("0-3,8-11");
  ASSERT_TRUE(set);
  EXPECT_EQ(cpus_of(*set), (std::vector<unsigned>{0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_EQ(set->count(), 8u);

  auto single = CpuSet::parse("5");
  ASSERT_TRUE(single);
  EXPECT_EQ(cpus_of(*single), (std::vector<unsigned>{5}));
}

TEST(CpuSet, ParsesSysfsStyleTextWithTrailingNewline) {
  auto set = CpuSet::parse("0-1,4\n");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->to_string(), "0-1,4");
}

TEST(CpuSet, EmptyTextIsTheEmptySet) {
  auto set = CpuSet::parse("\n");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->empty());
  EXPECT_EQ(set->to_string(), "");
}

TEST(CpuSet, HighestCpuIsAccepted) {
  auto set = CpuSet::parse("1023");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(1023));
}

struct BadInput {
  const char* text;
  std::size_t position;
  const char* message_part;
};

TEST(CpuSet, RejectsMalformedListsWithPosition) {
  const BadInput cases[] = {
      {"3-1", 0, "reversed range"},
      {"a", 0, "expected a number"},
      {"1,,2", 2, "empty element"},
      {"1,", 2, "trailing comma"},
      {",1", 0, "empty element"},
      {"1-", 2, "range without an end"},
      {"1-,2", 2, "range without an end"},
      {"0-3x", 3, "unexpected 'x'"},
      {"1 2", 1, "unexpected ' '"},
      {"1024", 0, "too large"},
      {"0-99999999999999999999", 2, "too large"},
      {"-1", 0, "expected a number"},
      {"  4-2", 2, "reversed range"},
  };
  for (const BadInput& c : cases) {
    auto set = CpuSet::parse(c.text);
    ASSERT_FALSE(set) << c.text;
    EXPECT_EQ(set.error().position, c.position) << c.text << ": " << set.error().to_string();
    EXPECT_NE(set.error().message.find(c.message_part), std::string::npos)
        << c.text << ": " << set.error().to_string();
  }
}

TEST(CpuSet, FormatsMaximalRuns) {
  CpuSet set{0, 1, 2, 3, 5, 7, 8};
  EXPECT_EQ(set.to_string(), "0-3,5,7-8");
  EXPECT_EQ(CpuSet::range(0, 1023).to_string(), "0-1023");
}

TEST(CpuSet, FormatThenParseRoundTrips) {
  CpuSet set{0, 63, 64, 65, 127, 128, 500, 1023};
  auto parsed = CpuSet::parse(set.to_string());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, set);
}

TEST(CpuSet, SetOperations) {
  const CpuSet a{0, 1, 2};
  const CpuSet b{2, 3};
  EXPECT_EQ(a | b, (CpuSet{0, 1, 2, 3}));
  EXPECT_EQ(a & b, (CpuSet{2}));
  EXPECT_EQ(a - b, (CpuSet{0, 1}));
}

TEST(CpuSet, QueriesAcrossWordBoundaries) {
  CpuSet set{3, 64, 700};
  EXPECT_EQ(set.first(), 3u);
  EXPECT_EQ(set.next_after(3), 64u);
  EXPECT_EQ(set.next_after(64), 700u);
  EXPECT_EQ(set.next_after(700), std::nullopt);
  EXPECT_EQ(set.next_after(1023), std::nullopt);
  EXPECT_EQ(set.nth(2), 700u);
  EXPECT_EQ(set.nth(3), std::nullopt);
  EXPECT_EQ(CpuSet{}.first(), std::nullopt);
}

TEST(CpuSet, IgnoresOutOfRangeCpus) {
  CpuSet set;
  set.add(CpuSet::kMaxCpus);
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.contains(CpuSet::kMaxCpus));
  set.add(7);
  set.remove(7);
  EXPECT_TRUE(set.empty());
}

}  // namespace
}  // namespace zap::zuma
