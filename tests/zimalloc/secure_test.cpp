// The secure build (ZAP_ZIMALLOC_SECURE): double frees (same thread or across threads), invalid
// frees and corrupted free lists abort with a clear message; guard pages stop a run past the end
// of a page.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "zap/zimalloc/zimalloc.hpp"

namespace zi = zap::zimalloc;

namespace {

TEST(SecureDeathTest, DoubleFreeIsReported) {
  EXPECT_DEATH(
      {
        void* keep = zi::malloc(32);
        void* p = zi::malloc(32);
        zi::free(p);
        zi::free(p);
        zi::free(keep);
      },
      "zimalloc: error: double free");
}

// Double frees across threads: whichever threads the two frees come from, the second one sees
// the block's freed tag (an atomic exchange) and aborts. The threads are made inside the death
// test's child, hence the "threadsafe" style (the child re-executes the test binary).
void free_on_another_thread(void* p) {
  std::thread([p] { zi::free(p); }).join();
}

TEST(SecureDeathTest, CrossThreadDoubleFreeOwnerThenRemote) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* keep = zi::malloc(32);
        void* p = zi::malloc(32);
        zi::free(p);                // the owner
        free_on_another_thread(p);  // then another thread
        zi::free(keep);
      },
      "zimalloc: error: double free");
}

TEST(SecureDeathTest, CrossThreadDoubleFreeRemoteThenRemote) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* keep = zi::malloc(200);
        void* p = zi::malloc(200);
        free_on_another_thread(p);
        free_on_another_thread(p);
        zi::free(keep);
      },
      "zimalloc: error: double free");
}

TEST(SecureDeathTest, CrossThreadDoubleFreeRemoteThenOwner) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* keep = zi::malloc(5000);
        void* p = zi::malloc(5000);
        free_on_another_thread(p);
        zi::free(p);
        zi::free(keep);
      },
      "zimalloc: error: double free");
}

// The remote free was already collected into the owner's lists (a malloc ran the page's
// collect) before the second free: still caught.
TEST(SecureDeathTest, CrossThreadDoubleFreeAfterTheOwnerCollected) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::vector<void*> blocks;
        for (int i = 0; i < 64; ++i) blocks.push_back(zi::malloc(48));
        free_on_another_thread(blocks[5]);
        zi::collect(false);  // takes the thread-free list
        free_on_another_thread(blocks[5]);
      },
      "zimalloc: error: double free");
}

// Two threads free one block at the same moment: exactly one of them wins the exchange.
TEST(SecureDeathTest, RacingCrossThreadDoubleFreeIsCaught) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* p = zi::malloc(64);
        std::atomic<int> ready{0};
        auto racer = [&] {
          ready.fetch_add(1);
          while (ready.load() < 2) {
          }
          zi::free(p);
        };
        std::thread a(racer);
        std::thread b(racer);
        a.join();
        b.join();
      },
      "zimalloc: error: double free");
}

// The 8-byte class and never-allocated blocks carry the tag too.
TEST(SecureDeathTest, CrossThreadDoubleFreeOfATinyBlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* p = zi::malloc(1);
        zi::free(p);
        free_on_another_thread(p);
      },
      "zimalloc: error: double free");
}

// Huge blocks (and blocks aligned above 2 MiB, which are huge) go back to the OS on their first
// free: the second free finds no segment there any more (or, racing, the huge page's own word).
TEST(SecureDeathTest, CrossThreadDoubleFreeOfAHugeBlock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* p = zi::malloc(5u << 20);
        zi::free(p);
        free_on_another_thread(p);
      },
      "zimalloc: error: .*(double free|freed already)");
  EXPECT_DEATH(
      {
        void* p = zi::aligned_alloc(std::size_t{8} << 20, 100);
        free_on_another_thread(p);
        zi::free(p);
      },
      "zimalloc: error: .*(double free|freed already)");
}

// No false alarm: blocks freed by other threads, reused, freed again by their owner or others.
TEST(Secure, CrossThreadFreesOfReusedBlocksAreFine) {
  for (int round = 0; round < 20; ++round) {
    std::vector<void*> blocks;
    for (int i = 0; i < 3000; ++i)
      blocks.push_back(zi::malloc(static_cast<std::size_t>(1 + i % 300)));
    std::thread other([&] {
      for (std::size_t i = 0; i < blocks.size(); i += 2) zi::free(blocks[i]);
    });
    other.join();
    for (std::size_t i = 1; i < blocks.size(); i += 2) zi::free(blocks[i]);
  }
  zi::collect(true);
}

TEST(SecureDeathTest, FreeOfAForeignPointerIsReported) {
  static char not_ours[64];
  EXPECT_DEATH(zi::free(not_ours + 16),
               "zimalloc: error: free of a pointer zimalloc did not allocate");
}

TEST(SecureDeathTest, FreeOfAnInteriorPointerIsReported) {
  EXPECT_DEATH(
      {
        auto* p = static_cast<char*>(zi::malloc(64));
        zi::free(p + 8);
      },
      "zimalloc: error: free of a pointer inside a block");
}

TEST(SecureDeathTest, WriteAfterFreeCorruptsAndIsCaught) {
  EXPECT_DEATH(
      {
        std::vector<void*> keep;
        for (int i = 0; i < 8; ++i) keep.push_back(zi::malloc(48));
        auto* p = static_cast<std::uintptr_t*>(zi::malloc(48));
        void* q = zi::malloc(48);
        zi::free(q);
        zi::free(p);
        p[0] = 0x4141414141414141;  // overwrites the (encoded) link of a free block
        for (int i = 0; i < 2000; ++i) keep.push_back(zi::malloc(48));  // reaches p
      },
      "zimalloc: error: corrupted free list");
}

TEST(SecureDeathTest, GuardPageStopsARunPastThePage) {
  EXPECT_DEATH(
      {
        auto* p = static_cast<volatile char*>(zi::malloc(5u << 20));
        for (std::size_t i = 0;; i += 64) p[i] = 1;  // runs into the guard after the block
      },
      "");
}

TEST(Secure, NormalUseStillWorks) {
  std::vector<void*> blocks;
  for (int i = 0; i < 10000; ++i) {
    const auto size = static_cast<std::size_t>(1 + i % 5000);
    void* p = zi::malloc(size);
    std::memset(p, 1, size);
    blocks.push_back(p);
  }
  for (void* p : blocks) zi::free(p);
  void* a = zi::aligned_alloc(256, 1000);
  zi::free(a);
  zi::collect(true);
}

}  // namespace
