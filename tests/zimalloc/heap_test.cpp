// Tests of Heap (heap.hpp): private heaps, destroying with live blocks, cross-heap realloc.
#include "zap/zimalloc/heap.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace zi = zap::zimalloc;

namespace {

TEST(Heap, DestroyFreesEverythingAtOnce) {
  zi::collect(true);
  const auto reserved_before = zi::process_stats().reserved;
  {
    zi::Heap heap;
    ASSERT_TRUE(heap.valid());
    for (int i = 0; i < 20000; ++i) {
      auto* p = static_cast<char*>(heap.malloc(static_cast<std::size_t>(16 + i % 3000)));
      ASSERT_NE(p, nullptr);
      p[0] = 1;
    }
    void* huge = heap.malloc(5u << 20);
    ASSERT_NE(huge, nullptr);
    EXPECT_GT(heap.stats().allocated, 20000 * 16);
    EXPECT_GT(zi::process_stats().reserved, reserved_before);
  }
  EXPECT_LE(zi::process_stats().reserved, reserved_before);
}

TEST(Heap, BlocksCanBeFreedEarlyFromAnyThread) {
  zi::Heap heap;
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) blocks.push_back(heap.malloc(64));
  std::thread other([&] {
    for (std::size_t i = 0; i < blocks.size(); i += 2) zi::free(blocks[i]);
  });
  other.join();
  for (std::size_t i = 1; i < blocks.size(); i += 2) zi::free(blocks[i]);
  heap.collect(true);
  EXPECT_EQ(heap.stats().allocated, 0);
}

TEST(Heap, CallocReallocAlignedWork) {
  zi::Heap heap;
  auto* p = static_cast<unsigned char*>(heap.calloc(100, 3));
  for (int i = 0; i < 300; ++i) ASSERT_EQ(p[i], 0);
  std::memset(p, 5, 300);
  void* from_thread_heap = zi::malloc(40);
  std::memset(from_thread_heap, 9, 40);
  auto* moved = static_cast<unsigned char*>(heap.realloc(from_thread_heap, 4000));
  EXPECT_EQ(moved[39], 9);
  p = static_cast<unsigned char*>(heap.realloc(p, 100000));
  EXPECT_EQ(p[299], 5);
  void* a = heap.aligned_alloc(4096, 100);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 4096, 0u);
  zi::free(a);
  zi::free(moved);
  zi::free(p);
}

}  // namespace
