// Tests of MemoryResource (memory_resource.hpp) with std::pmr containers.
#include "zap/zimalloc/memory_resource.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory_resource>
#include <string>
#include <vector>

namespace zi = zap::zimalloc;

namespace {

TEST(MemoryResource, BacksPmrContainers) {
  std::pmr::vector<std::pmr::string> names{zi::memory_resource()};
  for (int i = 0; i < 1000; ++i)
    names.emplace_back(std::string(100, static_cast<char>('a' + i % 26)));
  EXPECT_EQ(names[27][0], 'b');
  void* p = zi::memory_resource()->allocate(100, 256);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u);
  zi::memory_resource()->deallocate(p, 100, 256);
}

TEST(MemoryResource, AlignmentAboveTwoMiB) {
  zi::Heap heap;
  zi::MemoryResource on_heap{&heap};
  for (std::pmr::memory_resource* resource :
       {static_cast<std::pmr::memory_resource*>(zi::memory_resource()),
        static_cast<std::pmr::memory_resource*>(&on_heap)}) {
    for (std::size_t alignment : {std::size_t{4} << 20, std::size_t{64} << 20}) {
      void* p = resource->allocate(3u << 20, alignment);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
      EXPECT_GE(zi::usable_size(p), 3u << 20);
      static_cast<char*>(p)[(3u << 20) - 1] = 1;
      resource->deallocate(p, 3u << 20, alignment);
    }
  }
  // Through a pool resource, which asks its upstream for its chunks with the blocks' alignment.
  std::pmr::unsynchronized_pool_resource pool{zi::memory_resource()};
  void* q = pool.allocate(100, std::size_t{4} << 20);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q) % (std::size_t{4} << 20), 0u);
  pool.deallocate(q, 100, std::size_t{4} << 20);
}

TEST(MemoryResource, EqualityFollowsTheHeap) {
  zi::Heap heap;
  zi::MemoryResource a{&heap};
  zi::MemoryResource b{&heap};
  EXPECT_TRUE(a.is_equal(b));
  EXPECT_FALSE(a.is_equal(*zi::memory_resource()));
  EXPECT_FALSE(a.is_equal(*std::pmr::new_delete_resource()));
  std::pmr::vector<int> v{&a};
  v.resize(10000);
  EXPECT_GT(heap.stats().allocated, 40000);
}

}  // namespace
