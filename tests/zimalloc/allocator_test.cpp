// Tests of Allocator<T> (allocator.hpp) with standard containers.
#include "zap/zimalloc/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
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

// Types aligned above 2 MiB (the allocator asks aligned_alloc for alignof(T)).
struct alignas(4 << 20) Aligned4M {
  char bytes[64];
};
struct alignas(64 << 20) Aligned64M {
  char bytes[64];
};

template <typename T>
void expect_aligned_allocations(zi::Allocator<T> allocator) {
  T* p = allocator.allocate(2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(T), 0u);
  EXPECT_GE(zi::usable_size(p), 2 * sizeof(T));
  p[1].bytes[0] = 1;
  allocator.deallocate(p, 2);
}

TEST(Allocator, AlignmentAboveTwoMiB) {
  expect_aligned_allocations(zi::Allocator<Aligned4M>{});
  expect_aligned_allocations(zi::Allocator<Aligned64M>{});
  zi::Heap heap;
  expect_aligned_allocations(zi::Allocator<Aligned4M>{&heap});
  expect_aligned_allocations(zi::Allocator<Aligned64M>{&heap});
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
