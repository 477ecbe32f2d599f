// Unit tests of the zimalloc API (zimalloc.hpp): sizes, alignment, zeroing, realloc, stats.
#include "zap/zimalloc/zimalloc.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace zi = zap::zimalloc;

namespace {

TEST(Zimalloc, MallocZeroGivesUniquePointers) {
  void* a = zi::malloc(0);
  void* b = zi::malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  zi::free(a);
  zi::free(b);
  zi::free(nullptr);
}

TEST(Zimalloc, EverySizeIsUsableAndAligned) {
  std::vector<void*> blocks;
  for (std::size_t size = 1; size <= 70000; size += (size < 2048 ? 1 : 997)) {
    auto* p = static_cast<unsigned char*>(zi::malloc(size));
    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(zi::usable_size(p), size);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % (size <= 8 ? 8 : 16), 0u) << size;
    std::memset(p, 0xab, zi::usable_size(p));
    EXPECT_TRUE(zi::owns(p));
    blocks.push_back(p);
  }
  for (void* p : blocks) zi::free(p);
}

TEST(Zimalloc, SizeClassWasteIsBounded) {
  for (std::size_t size = 1; size <= (2u << 20); size = size < 4096 ? size + 1 : size + size / 7) {
    void* p = zi::malloc(size);
    const std::size_t usable = zi::usable_size(p);
    if (size > 128) {
      EXPECT_LE(usable, size + size / 4) << size;  // at most 25% over (12.5% on average)
    } else {
      EXPECT_LT(usable - size, 16u) << size;
    }
    zi::free(p);
  }
}

TEST(Zimalloc, HugeBlocksAreMappedAndReturned) {
  const std::size_t size = 9u << 20;
  auto* p = static_cast<unsigned char*>(zi::malloc(size));
  ASSERT_NE(p, nullptr);
  EXPECT_GE(zi::usable_size(p), size);
  p[0] = 1;
  p[size - 1] = 2;
  const auto before = zi::process_stats().reserved;
  zi::free(p);
  EXPECT_LE(zi::process_stats().reserved, before - static_cast<std::int64_t>(size));
}

TEST(Zimalloc, CallocZeroesAndDetectsOverflow) {
  // Dirty a block, free it, and calloc the same size: the reused block must be zero.
  auto* dirty = static_cast<unsigned char*>(zi::malloc(200));
  std::memset(dirty, 0xff, 200);
  zi::free(dirty);
  auto* p = static_cast<unsigned char*>(zi::calloc(10, 20));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(p[i], 0) << i;
  zi::free(p);
  EXPECT_EQ(zi::calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* big = zi::calloc(1, 5u << 20);
  ASSERT_NE(big, nullptr);
  zi::free(big);
}

TEST(Zimalloc, ReallocKeepsContentAcrossClasses) {
  auto* p = static_cast<unsigned char*>(zi::malloc(1));
  p[0] = 7;
  std::size_t size = 1;
  for (std::size_t next : {24u, 100u, 1000u, 9000u, 70000u, 3000000u, 500u, 10u}) {
    p = static_cast<unsigned char*>(zi::realloc(p, next));
    ASSERT_NE(p, nullptr);
    for (std::size_t i = 1; i < std::min(size, next); ++i)
      ASSERT_EQ(p[i], static_cast<unsigned char>(i * 31)) << i;
    EXPECT_EQ(p[0], 7);
    for (std::size_t i = 1; i < next; ++i) p[i] = static_cast<unsigned char>(i * 31);
    size = next;
  }
  EXPECT_EQ(zi::realloc(p, 0), nullptr);  // freed, as glibc
  void* q = zi::realloc(nullptr, 50);
  ASSERT_NE(q, nullptr);
  zi::free(q);
}

TEST(Zimalloc, AlignedAllocHonoursAlignment) {
  std::vector<void*> blocks;
  for (std::size_t alignment = 1; alignment <= (2u << 20); alignment *= 2) {
    for (std::size_t size : {1u, 8u, 24u, 100u, 4096u, 70000u, 3000000u}) {
      void* p = zi::aligned_alloc(alignment, size);
      ASSERT_NE(p, nullptr) << alignment << " " << size;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u) << alignment << " " << size;
      EXPECT_GE(zi::usable_size(p), size);
      std::memset(p, 1, size);
      blocks.push_back(p);
    }
  }
  for (void* p : blocks) zi::free(p);
  errno = 0;
  EXPECT_EQ(zi::aligned_alloc(3, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(zi::aligned_alloc(std::size_t{1} << 62, 10), nullptr);  // no address space has it
  EXPECT_EQ(errno, ENOMEM);
}

// Alignments above 2 MiB: a mapping of its own, trimmed so that only about size + 4 MiB stays
// reserved whatever the alignment; free, usable_size, realloc and owns work as on any block.
TEST(Zimalloc, AlignmentAboveTwoMiBIsServed) {
  zi::collect(true);
  const zi::Stats before = zi::process_stats();
  for (std::size_t alignment :
       {std::size_t{4} << 20, std::size_t{8} << 20, std::size_t{64} << 20, std::size_t{1} << 30}) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{3} << 20,
                             std::size_t{9} << 20}) {
      zi::collect(true);  // the thread heap's cached segments do not blur the counts below
      const std::int64_t base = zi::process_stats().reserved;
      auto* p = static_cast<unsigned char*>(zi::aligned_alloc(alignment, size));
      ASSERT_NE(p, nullptr) << alignment << " " << size;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u) << alignment << " " << size;
      EXPECT_TRUE(zi::owns(p));
      const std::size_t usable = zi::usable_size(p);
      EXPECT_GE(usable, size);
      EXPECT_LT(usable, size + (64u << 10)) << "usable_size counts only the block";
      if (size != 0) {
        std::memset(p, 0x5a, size);
        p[size - 1] = 0x7e;
      }
      // Not the whole alignment stays reserved: the over-reservation was trimmed.
      EXPECT_LT(zi::process_stats().reserved - base, static_cast<std::int64_t>(size + (5u << 20)));
      if (size >= 100) {
        // Growing moves the block (keeping the contents); shrinking a little keeps it.
        auto* q = static_cast<unsigned char*>(zi::realloc(p, size + (1u << 20)));
        ASSERT_NE(q, nullptr);
        EXPECT_EQ(q[0], 0x5a);
        EXPECT_EQ(q[size - 1], 0x7e);
        auto* r = static_cast<unsigned char*>(zi::realloc(q, size - 10));
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r[0], 0x5a);
        p = r;
      }
      zi::free(p);
      zi::collect(true);
      EXPECT_EQ(zi::process_stats().reserved, base) << alignment << " " << size;
    }
  }
  zi::collect(true);
  const zi::Stats after = zi::process_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_EQ(after.committed, before.committed);
}

// A block aligned to 4 MiB or more starts at a segment boundary: frees of it from another
// thread, and frees of ordinary blocks around it, still find the right segment.
TEST(Zimalloc, OverAlignedBlocksFreedFromAnotherThread) {
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) {
    blocks.push_back(zi::aligned_alloc(std::size_t{4} << (20 + i % 3), 1000 + i));
    blocks.push_back(zi::malloc(64));
  }
  std::thread other([&] {
    for (void* p : blocks) zi::free(p);
  });
  other.join();
  zi::collect(true);
}

TEST(Zimalloc, StatsFollowAllocations) {
  zi::collect(true);
  const zi::Stats before = zi::thread_stats();
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(zi::malloc(1000));
  const zi::Stats during = zi::thread_stats();
  EXPECT_GE(during.allocated - before.allocated, 1000 * 1000);
  EXPECT_GE(during.peak_allocated, during.allocated);
  EXPECT_GE(during.committed, during.allocated);
  EXPECT_GE(during.reserved, during.committed);
  for (void* p : blocks) zi::free(p);
  const zi::Stats after = zi::thread_stats();
  EXPECT_EQ(after.allocated, before.allocated);
  EXPECT_GE(after.peak_allocated, during.allocated);
  EXPECT_GE(after.peak_committed, during.committed);
  EXPECT_GE(after.peak_reserved, during.reserved);
  const zi::Stats process = zi::process_stats();
  EXPECT_GT(process.reserved, 0);
  EXPECT_GE(process.peak_committed, process.committed);
}

// The owner's frees go straight back to the list malloc pops, so a malloc/free loop of one size
// never runs that list dry; the slow path must still come round (zimalloc's heartbeat) and take
// in what other threads freed into the same page meanwhile, or those blocks would stay in use.
TEST(Zimalloc, RemoteFreesAreCollectedDuringAMallocFreeLoop) {
  constexpr std::size_t kBlocks = 200;  // a part of one page: it stays the size's current page
  std::int64_t before = 0;
  std::int64_t while_held = 0;
  std::int64_t after = 0;
  std::thread owner([&] {
    void* warm = zi::malloc(64);  // the thread's heap and the size's page exist before we count
    before = zi::thread_stats().allocated;
    std::vector<void*> blocks(kBlocks);
    for (void*& b : blocks) b = zi::malloc(64);
    while_held = zi::thread_stats().allocated;
    std::thread([&] {
      for (void* b : blocks) zi::free(b);
    }).join();
    for (int i = 0; i < 10000; ++i) {
      void* p = zi::malloc(64);
      static_cast<volatile char*>(p)[0] = 1;
      zi::free(p);
    }
    after = zi::thread_stats().allocated;
    zi::free(warm);
  });
  owner.join();
  EXPECT_GE(while_held - before, static_cast<std::int64_t>(kBlocks * 64));
  EXPECT_LT(after - before, static_cast<std::int64_t>(kBlocks * 64 / 4));
}

TEST(Zimalloc, CNamesWork) {
  void* p = zi_malloc(10);
  p = zi_realloc(p, 100);
  EXPECT_GE(zi_usable_size(p), 100u);
  zi_free(p);
  zi_free(zi_calloc(2, 2));
  zi_free(zi_aligned_alloc(64, 64));
}

}  // namespace
