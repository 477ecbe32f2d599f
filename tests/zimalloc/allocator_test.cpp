// Tests of Allocator<T> (allocator.hpp) with standard containers.
#include "zap/zimalloc/allocator.hpp"

#include <gtest/gtest.h>

#include <list>
#include <map>
#include <vector>

namespace zi = zap::zimalloc;

namespace {

struct alignas(64) Wide {
  char bytes[64];
};

TEST(Allocator, WorksWithContainers) {
  std::vector<int, zi::Allocator<int>> v;
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  EXPECT_EQ(v[99999], 99999);
  std::map<int, int, std::less<>, zi::Allocator<std::pair<const int, int>>> m;
  for (int i = 0; i < 1000; ++i) m[i] = i * 2;
  EXPECT_EQ(m[500], 1000);
  std::vector<Wide, zi::Allocator<Wide>> wide(10);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(wide.data()) % 64, 0u);
}

TEST(Allocator, HeapAllocatorsCompareByHeap) {
  zi::Heap heap;
  zi::Allocator<int> a{&heap};
  zi::Allocator<long> b{&heap};
  zi::Allocator<int> c;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  std::list<int, zi::Allocator<int>> list{a};
  for (int i = 0; i < 1000; ++i) list.push_back(i);
  EXPECT_EQ(list.size(), 1000u);
  EXPECT_GT(heap.stats().allocated, 0);
}

}  // namespace
