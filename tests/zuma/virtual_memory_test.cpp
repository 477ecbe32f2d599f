#include "zap/zuma/virtual_memory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "zap/zuma/error.hpp"
#include "zap/zuma/topology.hpp"

namespace zap::zuma {
namespace {

bool is_aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

TEST(VirtualMemory, PageSizes) {
  EXPECT_EQ(page_size(), static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
  const std::size_t huge = huge_page_size();
  if (huge != 0) {  // 0 only on a kernel without hugetlb
    EXPECT_GT(huge, page_size());
    EXPECT_EQ(huge & (huge - 1), 0u);
  }
}

TEST(VirtualMemory, ReserveCommitWriteDecommitReleaseRoundTrip) {
  const std::size_t size = 16 * page_size();
  auto base = reserve(size);
  ASSERT_TRUE(base) << base.error().message();
  ASSERT_TRUE(is_aligned(*base, page_size()));
  ASSERT_FALSE(commit(*base, size));
  auto* bytes = static_cast<unsigned char*>(*base);
  std::memset(bytes, 0xAB, size);
  EXPECT_EQ(bytes[size - 1], 0xAB);
  EXPECT_FALSE(decommit(*base, size, DecommitMode::kDiscardAndProtect));
  ASSERT_FALSE(commit(*base, size, /*populate=*/true));
  EXPECT_EQ(bytes[0], 0u);  // recommitted pages are fresh
  EXPECT_FALSE(release(*base, size));
}

TEST(VirtualMemory, DecommittedPageReadsZero) {
  const std::size_t size = 4 * page_size();
  auto base = reserve(size);
  ASSERT_TRUE(base);
  ASSERT_FALSE(commit(*base, size));
  auto* bytes = static_cast<unsigned char*>(*base);
  std::memset(bytes, 0x5A, size);
  ASSERT_FALSE(decommit(bytes + page_size(), page_size()));
  EXPECT_EQ(bytes[0], 0x5A);          // neighbours untouched
  EXPECT_EQ(bytes[page_size()], 0u);  // discarded page reads zero
  EXPECT_EQ(bytes[2 * page_size() - 1], 0u);
  EXPECT_EQ(bytes[2 * page_size()], 0x5A);
  bytes[page_size()] = 1;  // and is writable again
  EXPECT_FALSE(decommit(*base, size, DecommitMode::kLazyFree));
  bytes[0] = 2;  // still accessible after a lazy free
  EXPECT_FALSE(release(*base, size));
}

TEST(VirtualMemory, ReserveHonoursLargeAlignment) {
  constexpr std::size_t kAlignment = 2 << 20;
  for (int i = 0; i < 8; ++i) {
    const std::size_t size = (i + 1) * page_size() * 3;
    auto base = reserve(size, kAlignment);
    ASSERT_TRUE(base) << base.error().message();
    EXPECT_TRUE(is_aligned(*base, kAlignment));
    ASSERT_FALSE(commit(*base, size));
    static_cast<char*>(*base)[size - 1] = 1;
    EXPECT_FALSE(release(*base, size));
  }
}

TEST(VirtualMemory, InvalidArgumentsAreErrors) {
  EXPECT_EQ(reserve(0).error(), std::errc::invalid_argument);
  EXPECT_EQ(reserve(page_size(), 3 * page_size()).error(), std::errc::invalid_argument);
  EXPECT_EQ(reserve(SIZE_MAX).error(), std::errc::not_enough_memory);
  auto base = reserve(page_size());
  ASSERT_TRUE(base);
  char* misaligned = static_cast<char*>(*base) + 1;
  EXPECT_EQ(commit(misaligned, 1), std::errc::invalid_argument);
  EXPECT_EQ(decommit(nullptr, page_size()), std::errc::invalid_argument);
  EXPECT_EQ(release(*base, 0), std::errc::invalid_argument);
  EXPECT_FALSE(release(*base, page_size()));
}

TEST(VirtualMemory, AdviseHugePagesSucceedsOrSaysUnavailable) {
  const std::size_t huge = huge_page_size() != 0 ? huge_page_size() : page_size();
  auto base = reserve(2 * huge, huge);
  ASSERT_TRUE(base);
  ASSERT_FALSE(commit(*base, 2 * huge));
  const std::error_code ec = advise_huge_pages(*base, 2 * huge);
  EXPECT_TRUE(!ec || ec == Errc::kHugePagesUnavailable) << ec.message();
  EXPECT_FALSE(release(*base, 2 * huge));
}

TEST(VirtualMemory, HugeAllocationSucceedsOrReportsFallback) {
  auto allocation = allocate_huge(3 * page_size());
  ASSERT_TRUE(allocation) << allocation.error().message();
  ASSERT_NE(allocation->ptr, nullptr);
  if (allocation->explicit_huge) {
    EXPECT_FALSE(allocation->fallback_reason);
    EXPECT_EQ(allocation->size, huge_page_size());
  } else {
    EXPECT_TRUE(allocation->fallback_reason);
    EXPECT_GE(allocation->size, 3 * page_size());
  }
  auto* bytes = static_cast<unsigned char*>(allocation->ptr);
  EXPECT_EQ(bytes[allocation->size - 1], 0u);  // zeroed
  std::memset(bytes, 0xCD, allocation->size);
  EXPECT_FALSE(release(allocation->ptr, allocation->size));
}

TEST(VirtualMemory, BindToNodeSucceedsOrGivesTheDocumentedError) {
  const std::size_t size = 4 * page_size();
  auto base = reserve(size);
  ASSERT_TRUE(base);
  ASSERT_FALSE(commit(*base, size));
  const unsigned node = Topology::system().nodes()[0].id;
  const std::error_code ec = bind_to_node(*base, size, node);
  if (ec) {
    EXPECT_TRUE(ec == Errc::kNumaUnavailable || ec == Errc::kNoSuchNode) << ec.message();
  } else {
    static_cast<char*>(*base)[0] = 1;  // first touch under the policy
    auto placed = node_of_address(*base);
    ASSERT_TRUE(placed) << placed.error().message();
    EXPECT_EQ(*placed, node);
  }
  EXPECT_FALSE(release(*base, size));
}

TEST(VirtualMemory, BindToAbsentNodeIsAnErrorNotAnAbort) {
  const std::size_t size = page_size();
  auto base = reserve(size);
  ASSERT_TRUE(base);
  ASSERT_FALSE(commit(*base, size));
  const std::error_code ec = bind_to_node(*base, size, 1000);
  EXPECT_TRUE(ec == Errc::kNoSuchNode || ec == Errc::kNumaUnavailable) << ec.message();
  EXPECT_EQ(bind_to_node(*base, size, 5000), Errc::kNoSuchNode);
  EXPECT_FALSE(release(*base, size));
}

}  // namespace
}  // namespace zap::zuma
