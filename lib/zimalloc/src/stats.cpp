// Statistics: per heap (walking its segments) and per process (the OS layer's counters and the
// allocated total that heaps add their changes to on slow paths).
#include <algorithm>

#include "internal.hpp"
#include "zap/zimalloc/heap.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zimalloc {
namespace detail {
namespace {

Stats heap_stats(HeapCore* heap) noexcept {
  Stats stats;
  heap->allocated_ = heap_count_allocated(heap);
  heap->peak_allocated_ = std::max(heap->peak_allocated_, heap->allocated_);
  stats.allocated = heap->allocated_;
  stats.peak_allocated = heap->peak_allocated_;
  heap_sample_os_peaks(heap, &stats.committed, &stats.reserved);
  stats.peak_committed = heap->peak_committed_;
  stats.peak_reserved = heap->peak_reserved_;
  return stats;
}

}  // namespace
}  // namespace detail

Stats process_stats() noexcept {
  if (detail::tl_heap != &detail::g_empty_heap) detail::heap_sync_stats(detail::tl_heap);
  const detail::OsCounters os = detail::os_counters();
  Stats stats;
  // relaxed: statistics.
  stats.allocated = detail::g_allocated.load(std::memory_order_relaxed) + detail::huge_allocated();
  stats.peak_allocated =
      std::max(stats.allocated, detail::g_peak_allocated.load(std::memory_order_relaxed));
  stats.committed = os.committed;
  stats.peak_committed = os.peak_committed;
  stats.reserved = os.reserved;
  stats.peak_reserved = os.peak_reserved;
  return stats;
}

Stats thread_stats() noexcept {
  if (detail::tl_heap == &detail::g_empty_heap) return {};
  return detail::heap_stats(detail::tl_heap);
}

Stats Heap::stats() const noexcept {
  if (core_ == nullptr) return {};
  return detail::heap_stats(core_);
}

}  // namespace zap::zimalloc
