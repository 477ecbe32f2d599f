// The platform layer: OS memory through zuma, plus the counters of reserved/committed bytes.
#include "os.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "types.hpp"
#include "zap/zuma/error.hpp"
#include "zap/zuma/this_thread.hpp"
#include "zap/zuma/virtual_memory.hpp"

namespace zap::zimalloc::detail {
namespace {

// Counters: relaxed RMWs -- they are statistics, ordered with nothing else.
std::atomic<std::int64_t> g_reserved{0};
std::atomic<std::int64_t> g_committed{0};
std::atomic<std::int64_t> g_peak_reserved{0};
std::atomic<std::int64_t> g_peak_committed{0};
// Set after mbind failed for lack of NUMA support: no further attempts. relaxed: a hint only.
std::atomic<bool> g_numa_unavailable{false};

// Whether the machine has more than one memory node: read once from sysfs with raw syscalls
// (zuma's Topology allocates, which an allocator cannot do while it sets itself up). On one node
// binding is pointless, and skipping it saves an mbind per segment. 0: unknown, 1: no, 2: yes.
// relaxed: every thread computes the same answer.
std::atomic<int> g_multi_node{0};

bool machine_has_several_nodes() noexcept {
  int known = g_multi_node.load(std::memory_order_relaxed);
  if (known == 0) {
    char text[64] = {};
    const int fd = open("/sys/devices/system/node/has_memory", O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0) close(fd);
    // "0\n" on one node; "0-1\n", "0,2\n", ... on several.
    bool several = false;
    for (ssize_t i = 0; i < n; ++i) several = several || text[i] == '-' || text[i] == ',';
    known = several ? 2 : 1;
    g_multi_node.store(known, std::memory_order_relaxed);
  }
  return known == 2;
}

void raise_peak(std::atomic<std::int64_t>& peak, std::int64_t value) noexcept {
  std::int64_t seen = peak.load(std::memory_order_relaxed);  // relaxed: statistics
  while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

void add(std::atomic<std::int64_t>& counter, std::atomic<std::int64_t>& peak,
         std::int64_t delta) noexcept {
  const std::int64_t now = counter.fetch_add(delta, std::memory_order_relaxed) + delta;
  if (delta > 0) raise_peak(peak, now);
}

}  // namespace

std::size_t os_page_size() noexcept { return zuma::page_size(); }

namespace {

// Commits a fresh reservation, binds it to `node` (best effort) and counts it.
void* commit_reserved(void* base, std::size_t size, unsigned node) noexcept {
  // Page::thread_free_ keeps a count above bit 48 of its block pointers (kTfCountShift): memory
  // mapped above that (only with 5-level paging and a high mmap hint) is refused as exhausted.
  const bool fits_48_bits =
      reinterpret_cast<std::uintptr_t>(base) + size <= (std::uintptr_t{1} << kTfCountShift);
  if (!fits_48_bits || zuma::commit(base, size)) {
    (void)zuma::release(base, size);
    return nullptr;
  }
  if (!g_numa_unavailable.load(std::memory_order_relaxed) && machine_has_several_nodes()) {
    const std::error_code ec = zuma::bind_to_node(base, size, node);
    if (ec == zuma::Errc::kNumaUnavailable)
      g_numa_unavailable.store(true, std::memory_order_relaxed);
  }
  add(g_reserved, g_peak_reserved, static_cast<std::int64_t>(size));
  add(g_committed, g_peak_committed, static_cast<std::int64_t>(size));
  return base;
}

}  // namespace

void* os_alloc_aligned(std::size_t size, std::size_t alignment, unsigned node) noexcept {
  auto reserved = zuma::reserve(size, alignment);
  if (!reserved) return nullptr;
  return commit_reserved(*reserved, size, node);
}

void* os_alloc_offset_aligned(std::size_t size, std::size_t alignment, std::size_t offset,
                              unsigned node) noexcept {
  if (size > SIZE_MAX - alignment) return nullptr;
  // PROT_NONE and MAP_NORESERVE: the over-reservation costs address space only, and only
  // until the trim below.
  auto reserved = zuma::reserve(size + alignment, 0);
  if (!reserved) return nullptr;
  const auto raw = reinterpret_cast<std::uintptr_t>(*reserved);
  // The first base >= raw with base + offset aligned: head < alignment, so the tail is > 0.
  const std::uintptr_t base =
      ((raw + offset + alignment - 1) & ~(std::uintptr_t{alignment} - 1)) - offset;
  const std::size_t head = base - raw;
  const std::size_t tail = alignment - head;
  if (head != 0) (void)zuma::release(*reserved, head);
  (void)zuma::release(reinterpret_cast<void*>(base + size), tail);
  return commit_reserved(reinterpret_cast<void*>(base), size, node);
}

void os_free(void* ptr, std::size_t size, std::size_t committed) noexcept {
  (void)zuma::release(ptr, size);
  add(g_reserved, g_peak_reserved, -static_cast<std::int64_t>(size));
  add(g_committed, g_peak_committed, -static_cast<std::int64_t>(committed));
}

void os_purge(void* ptr, std::size_t size) noexcept {
  if (size == 0) return;
  (void)zuma::decommit(ptr, size, zuma::DecommitMode::kDiscard);
  // The range reads zero and is refaulted on touch; it counts as committed again when the page
  // is reused (os_recommitted), so "committed" follows the memory the OS really backs.
  add(g_committed, g_peak_committed, -static_cast<std::int64_t>(size));
}

void os_protect(void* ptr, std::size_t size) noexcept {
  (void)zuma::decommit(ptr, size, zuma::DecommitMode::kDiscardAndProtect);
  add(g_committed, g_peak_committed, -static_cast<std::int64_t>(size));
}

void os_recommitted(std::size_t size) noexcept {
  add(g_committed, g_peak_committed, static_cast<std::int64_t>(size));
}

unsigned os_current_node() noexcept {
  auto node = zuma::this_thread::current_node();
  return node ? *node : 0;
}

std::uint64_t os_now_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

std::uint64_t os_random() noexcept {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof value)) {
    return value;
  }
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  value = static_cast<std::uint64_t>(ts.tv_nsec) ^ (reinterpret_cast<std::uintptr_t>(&value) << 16);
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  return value ^ (value >> 29);
}

OsCounters os_counters() noexcept {
  return {g_reserved.load(std::memory_order_relaxed), g_committed.load(std::memory_order_relaxed),
          g_peak_reserved.load(std::memory_order_relaxed),
          g_peak_committed.load(std::memory_order_relaxed)};
}

}  // namespace zap::zimalloc::detail
