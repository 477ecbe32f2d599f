// Tests of Heap (heap.hpp): private heaps, destroying with live blocks, cross-heap realloc,
// alignments above 2 MiB, and Heaps that outlive their thread (orphaned, adopted).
#include "zap/zimalloc/heap.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
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

TEST(Heap, AlignmentAboveTwoMiB) {
  zi::Heap heap;
  for (std::size_t alignment : {std::size_t{4} << 20, std::size_t{64} << 20}) {
    auto* p = static_cast<unsigned char*>(heap.aligned_alloc(alignment, 1000));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
    EXPECT_GE(zi::usable_size(p), 1000u);
    std::memset(p, 3, 1000);
    zi::free(p);
  }
  // One left to the heap's destruction.
  void* kept = heap.aligned_alloc(std::size_t{8} << 20, 100);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(kept) % (std::size_t{8} << 20), 0u);
}

// Fills `count` blocks of `heap` and returns them (size 16 + i % 3000, byte 0 = i % 251).
std::vector<void*> fill_heap(zi::Heap* heap, int count) {
  std::vector<void*> blocks;
  for (int i = 0; i < count; ++i) {
    const auto size = static_cast<std::size_t>(16 + i % 3000);
    auto* p = static_cast<unsigned char*>(heap->malloc(size));
    if (p == nullptr) break;
    std::memset(p, i % 251, size);
    blocks.push_back(p);
  }
  return blocks;
}

// The thread that made a Heap exits with the Heap alive and full: the Heap's segments are
// abandoned, its blocks stay valid and are freed from main, and then every byte goes back.
TEST(Heap, OutlivingItsThreadAbandonsItsSegments) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  zi::Heap* heap = nullptr;
  std::vector<void*> blocks;
  void* huge = nullptr;
  std::thread maker([&] {
    heap = new zi::Heap;
    blocks = fill_heap(heap, 20000);
    huge = heap->malloc(5u << 20);
    static_cast<char*>(huge)[(5u << 20) - 1] = 7;
  });
  maker.join();
  ASSERT_EQ(blocks.size(), 20000u);
  ASSERT_NE(huge, nullptr);
  // The orphaned Heap holds nothing; its blocks are still counted, by the process.
  EXPECT_EQ(heap->stats().allocated, 0);
  EXPECT_EQ(heap->stats().reserved, 0);
  const zi::Stats during = zi::process_stats();
  EXPECT_GT(during.allocated - before.allocated, 20000 * 16 + (5 << 20));
  EXPECT_GT(during.reserved - before.reserved, 20000 * 16);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto* p = static_cast<const unsigned char*>(blocks[i]);
    ASSERT_EQ(p[0], i % 251) << i;
    ASSERT_EQ(p[15], i % 251) << i;
  }
  EXPECT_EQ(static_cast<char*>(huge)[(5u << 20) - 1], 7);
  for (void* p : blocks) zi::free(p);
  zi::free(huge);
  zi::collect(true);  // takes the abandoned segments over; all empty: back to the OS
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.reserved, before.reserved);
  EXPECT_EQ(after.committed, before.committed);
  delete heap;  // an orphaned Heap may be destroyed on any thread
  EXPECT_EQ(zi::process_stats().reserved, before.reserved);
}

// An orphaned Heap is adopted by the next thread that allocates from it; its old blocks survive
// its destruction (they were abandoned), its new ones do not.
TEST(Heap, OrphanedHeapIsAdoptedByTheNextAllocatingThread) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  zi::Heap* heap = nullptr;
  std::vector<void*> old_blocks;
  std::thread maker([&] {
    heap = new zi::Heap;
    old_blocks = fill_heap(heap, 3000);
  });
  maker.join();
  ASSERT_EQ(old_blocks.size(), 3000u);
  std::vector<void*> new_blocks = fill_heap(heap, 3000);  // adopted by this thread
  ASSERT_EQ(new_blocks.size(), 3000u);
  EXPECT_GT(heap->stats().allocated, 3000 * 16);
  void* aligned = heap->aligned_alloc(std::size_t{4} << 20, 64);
  ASSERT_NE(aligned, nullptr);
  zi::free(new_blocks[0]);
  delete heap;  // frees new_blocks and `aligned`
  for (std::size_t i = 0; i < old_blocks.size(); ++i) {
    ASSERT_EQ(static_cast<const unsigned char*>(old_blocks[i])[0], i % 251) << i;
  }
  for (void* p : old_blocks) zi::free(p);
  zi::collect(true);
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.reserved, before.reserved);
}

// A Heap made by a thread that never allocated otherwise, orphaned and then destroyed while
// another thread frees its blocks: no crash, nothing lost.
TEST(Heap, ManyThreadsExitWithLiveHeaps) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  std::vector<zi::Heap*> heaps(8, nullptr);
  std::vector<std::vector<void*>> blocks(8);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::thread> makers;
    for (int t = round * 4; t < round * 4 + 4; ++t) {
      makers.emplace_back([&, t] {
        heaps[static_cast<std::size_t>(t)] = new zi::Heap;
        blocks[static_cast<std::size_t>(t)] = fill_heap(heaps[static_cast<std::size_t>(t)], 2000);
      });
    }
    for (std::thread& m : makers) m.join();
  }
  std::thread freer([&] {
    for (auto& list : blocks)
      for (void* p : list) zi::free(p);
  });
  for (zi::Heap* heap : heaps) delete heap;
  freer.join();
  zi::collect(true);
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.reserved, before.reserved);
}

// A thread_local Heap is destroyed (with its blocks) before the thread's exit handling runs:
// nothing is orphaned, nothing leaks.
TEST(Heap, ThreadLocalHeapIsDestroyedAtThreadExit) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  std::thread([] {
    thread_local zi::Heap heap;
    const std::vector<void*> blocks = fill_heap(&heap, 5000);
    EXPECT_EQ(blocks.size(), 5000u);
  }).join();
  zi::collect(true);
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.reserved, before.reserved);
}

// The Heap's thread exits while another thread is freeing the Heap's blocks: the frees race
// with the abandoning of the segments (the tsan build checks the ordering); every byte returns.
TEST(Heap, BlocksFreedWhileTheirThreadExits) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  for (int round = 0; round < 5; ++round) {
    zi::Heap* heap = nullptr;
    std::vector<void*> blocks;
    std::atomic<bool> filled{false};
    std::thread maker([&] {
      heap = new zi::Heap;
      blocks = fill_heap(heap, 20000);
      filled.store(true, std::memory_order_release);  // publishes heap and blocks
    });
    while (!filled.load(std::memory_order_acquire)) std::this_thread::yield();
    std::thread freer([&] {
      for (void* p : blocks) zi::free(p);
    });
    maker.join();
    freer.join();
    delete heap;
  }
  zi::collect(true);
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.reserved, before.reserved);
}

}  // namespace
