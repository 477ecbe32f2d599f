// Abandoned segments: when a thread exits, its segments (with their live blocks) go on a global
// list; another thread takes them over (reclaims them) when it needs a segment or collects.
#include <mutex>

#include "internal.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zimalloc::detail {
namespace {

// The list is touched only at thread exit and when a heap needs a segment: a mutex is simple.
zync::Mutex g_abandoned_mutex;
SegmentQueue g_abandoned;
std::atomic<std::size_t> g_abandoned_count{0};  // relaxed peek before taking the mutex

}  // namespace

void abandoned_lock() noexcept { g_abandoned_mutex.lock(); }
void abandoned_unlock() noexcept { g_abandoned_mutex.unlock(); }

void heap_abandon_segments(HeapCore* heap) noexcept {
  heap_purge(heap, true, 0);  // empty segments go back to the OS now
  while (Segment* segment = heap->segments_) {
    unlink_from_heap(heap, segment);
    unlist(heap, segment);
    for (std::uint8_t i = 0; i < segment->page_count_; ++i) {
      Page* page = &segment->pages_[i];
      if (!page->in_use_) continue;
      page->in_full_ = false;
      page->next_ = page->prev_ = nullptr;
      // Back to kTfNormal: nobody is to be notified any more. relaxed: state bits only.
      std::uintptr_t head = page->thread_free_.load(std::memory_order_relaxed);
      while (!page->thread_free_.compare_exchange_weak(
          head, head & ~kTfStateMask, std::memory_order_relaxed, std::memory_order_relaxed)) {
      }
    }
    segment->heap_ = nullptr;
    // relaxed: the mutex below publishes the segment to a reclaimer; freers only compare ids.
    segment->thread_id_.store(0, std::memory_order_relaxed);
    std::lock_guard guard(g_abandoned_mutex);
    list_push(&g_abandoned, segment, SegmentList::kAbandoned);
    g_abandoned_count.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint
  }
  heap->free_page_segments_[0] = heap->free_page_segments_[1] = SegmentQueue{};
  heap->empty_segments_ = SegmentQueue{};
}

bool heap_reclaim_abandoned(HeapCore* heap, bool all) noexcept {
  // relaxed peek: a stale answer costs only a missed or an empty look under the mutex.
  if (g_abandoned_count.load(std::memory_order_relaxed) == 0) return false;
  bool any = false;
  for (;;) {
    Segment* segment = nullptr;
    {
      std::lock_guard guard(g_abandoned_mutex);
      // Prefer a segment of our NUMA node; take any when there is none.
      for (Segment* s = g_abandoned.first_; s != nullptr; s = s->list_next_) {
        if (segment == nullptr ||
            (s->numa_node_ == heap->numa_node_ && segment->numa_node_ != heap->numa_node_))
          segment = s;
        if (segment->numa_node_ == heap->numa_node_) break;
      }
      if (segment == nullptr) return any;
      list_remove(&g_abandoned, segment);
      g_abandoned_count.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
    }
    any = true;
    // relaxed: see Segment::thread_id_; the mutex ordered the abandoner's writes before ours.
    segment->thread_id_.store(heap->thread_id_, std::memory_order_relaxed);
    link_to_heap(heap, segment);
    segment->notify_mask_.store(0, std::memory_order_relaxed);  // relaxed: stale bits only
    const bool has_free_page = segment->used_pages_ < segment->page_count_;
    if (has_free_page && segment->kind_ != PageKind::kLarge) {
      list_push(&heap->free_page_segments_[static_cast<int>(segment->kind_)], segment,
                SegmentList::kFreePages);
    }
    for (std::uint8_t i = 0; i < segment->page_count_; ++i) {
      Page* page = &segment->pages_[i];
      if (!page->in_use_) continue;
      // The blocks of the page move from the process's abandoned total to this heap.
      const auto bytes = static_cast<std::int64_t>(page->used_ * page->block_size_);
      heap->synced_allocated_ += bytes;
      page_collect(page);
      if (page->used_ == 0) {
        segment_page_free(heap, page);
      } else {
        page_queue_push_front(heap, page->bin_, page);
      }
    }
    if (!all) return true;
  }
}

}  // namespace zap::zimalloc::detail
