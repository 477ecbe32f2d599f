// The secure build (ZAP_ZIMALLOC_SECURE): double frees, invalid frees and corrupted free lists
// abort with a clear message; guard pages stop a run past the end of a page.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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
