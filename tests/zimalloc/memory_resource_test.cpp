// Tests of MemoryResource (memory_resource.hpp) with std::pmr containers.
#include "zap/zimalloc/memory_resource.hpp"

#include <gtest/gtest.h>

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
