// Memory goes back to the OS: after a burst is freed and collected, the resident set is back
// within 10% of where it started (read from /proc/self/statm).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "zap/zimalloc/zimalloc.hpp"

namespace zi = zap::zimalloc;

namespace {

[[maybe_unused]] long resident_bytes() {
  long pages_total = 0;
  long pages_resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = -1;
  std::fclose(f);
  return pages_resident * sysconf(_SC_PAGESIZE);
}

// Under a sanitizer, shadow memory, thread creation and the sanitizer's own allocator (its
// quarantine keeps freed memory) move the RSS by megabytes on their own: there, zimalloc's
// committed count is checked.
long measure() {
#if defined(ZAP_SANITIZE)
  return static_cast<long>(zi::process_stats().committed);
#else
  return resident_bytes();
#endif
}

TEST(Rss, ReturnsAfterABurstIsFreed) {
  zi::collect(true);
  const long start = measure();
  ASSERT_GT(start, 0);
  std::vector<void*> blocks;
  const std::size_t sizes[] = {16, 48, 200, 1000, 5000, 40000, 300000};
  std::size_t total = 0;
  for (int i = 0; total < (256u << 20); ++i) {
    const std::size_t size = sizes[i % 7];
    auto* p = static_cast<char*>(zi::malloc(size));
    for (std::size_t j = 0; j < size; j += 4096) p[j] = 1;  // touch every OS page
    p[size - 1] = 1;
    blocks.push_back(p);
    total += size;
  }
  const long peak = measure();
  EXPECT_GT(peak - start, 200l << 20);
  for (void* p : blocks) zi::free(p);
  std::vector<void*>().swap(blocks);
  zi::collect(true);
  const long end = measure();
  EXPECT_LE(end, start + start / 10) << "start " << start << " peak " << peak << " end " << end;
}

TEST(Rss, FreeFromAnotherThreadIsReturnedToo) {
  zi::collect(true);
  const long start = measure();
  std::vector<void*> blocks;
  for (int i = 0; i < 200000; ++i) {
    auto* p = static_cast<char*>(zi::malloc(512));
    p[0] = 1;
    p[511] = 1;
    blocks.push_back(p);
  }
  std::thread freer([&] {
    for (void* p : blocks) zi::free(p);
  });
  freer.join();
  std::vector<void*>().swap(blocks);
  zi::collect(true);
  const long end = measure();
  EXPECT_LE(end, start + start / 10) << "start " << start << " end " << end;
}

}  // namespace

namespace {

// Without collect(true): free pages are decommitted once the purge delay has passed, on the
// heap's next slow path (here collect(false), which only does what is due).
TEST(Rss, FreePagesArePurgedAfterTheDelayAlone) {
  zi::set_purge_delay(std::chrono::milliseconds(5));
  zi::collect(true);
  const auto start = zi::process_stats().committed;
  std::vector<void*> blocks;
  for (int i = 0; i < 100000; ++i) {
    auto* p = static_cast<char*>(zi::malloc(1000));
    p[0] = 1;
    blocks.push_back(p);
  }
  const auto peak = zi::process_stats().committed;
  EXPECT_GT(peak - start, 90'000'000);
  for (void* p : blocks) zi::free(p);
  std::vector<void*>().swap(blocks);
  // Wait for the delay to pass by polling the condition itself, with a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto now_committed = zi::process_stats().committed;
  while (now_committed > start + start / 10 && std::chrono::steady_clock::now() < deadline) {
    zi::collect(false);
    std::this_thread::yield();
    now_committed = zi::process_stats().committed;
  }
  EXPECT_LE(now_committed, start + start / 10) << "start " << start << " peak " << peak;
  zi::set_purge_delay(zi::kDefaultPurgeDelay);
}

}  // namespace
