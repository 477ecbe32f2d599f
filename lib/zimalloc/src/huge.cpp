// Huge blocks (over 2 MiB, or aligned to more than 2 MiB): each is a segment of its own, straight
// from the OS and back to it on free, from any thread. They belong to no heap's pages; a global
// list (under a mutex: a huge allocation costs an mmap anyway) lets a destroyed Heap release the
// ones it made.
//
// Layouts (H: the segment header, at a kSegmentSize-aligned address; g: a guard page in secure
// builds; x: inaccessible):
//   alignment <= 2 MiB:  [H | block .............. | g]   the block at the first aligned address
//                                                          after the header (over-reserved by
//                                                          the alignment)
//   alignment >= 4 MiB:  [H | xxxxxxxxxx ][ block ...... | g]   the block starts exactly
//                        ^segment        ^segment + kSegmentSize, aligned to the alignment;
//                        segment_of(p) uses p - 1, so it still finds H. The OS layer over-reserves
//                        by the alignment and trims, so only kSegmentSize + size stays reserved;
//                        the gap after the header is decommitted and protected.
#include <algorithm>
#include <mutex>

#include "internal.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zimalloc::detail {
namespace {

zync::Mutex g_huge_mutex;
SegmentQueue g_huge;
std::atomic<std::int64_t> g_huge_allocated{0};  // relaxed: statistics

}  // namespace

void huge_lock() noexcept { g_huge_mutex.lock(); }
void huge_unlock() noexcept { g_huge_mutex.unlock(); }

std::int64_t huge_allocated() noexcept {
  return g_huge_allocated.load(std::memory_order_relaxed);  // relaxed: statistics
}

namespace {

// Hands out the (initialised) huge page of `segment` and counts it.
void huge_publish(HeapCore* heap, Segment* segment) noexcept {
  Page* page = &segment->pages_[0];
  page->bin_ = static_cast<std::uint8_t>(kBinHuge);
  page->capacity_ = page->reserved_ = page->used_ = 1;
  page->in_use_ = true;
  segment->used_pages_ = 1;
  segment->heap_ = heap;  // for Heap destruction; thread_id_ stays 0: any thread frees it
  {
    std::lock_guard guard(g_huge_mutex);
    list_push(&g_huge, segment, SegmentList::kNone);
  }
  g_huge_allocated.fetch_add(static_cast<std::int64_t>(page->block_size_),
                             std::memory_order_relaxed);  // relaxed: statistics
}

// A block aligned to kSegmentSize or more (see the layouts above).
void* huge_alloc_over_aligned(HeapCore* heap, std::size_t size, std::size_t alignment) noexcept {
  const std::size_t os_page = os_page_size();
  const std::size_t body = (std::max<std::size_t>(size, 1) + os_page - 1) / os_page * os_page;
  const std::size_t total = kSegmentSize + body + (kSecure ? os_page : 0);
  Segment* segment = segment_create(heap, PageKind::kHuge, total, alignment);
  if (segment == nullptr) return nullptr;
  auto* base = reinterpret_cast<std::uint8_t*>(segment);
  std::uint8_t* start = nullptr;
  std::uint8_t* end = nullptr;
  page_area(segment, &segment->pages_[0], &start, &end);
  // The rest of the first kSegmentSize bytes is never used: give it back and make it fault.
  auto* gap = reinterpret_cast<std::uint8_t*>(
      (reinterpret_cast<std::uintptr_t>(start) + os_page - 1) & ~(os_page - 1));
  const auto gap_bytes = static_cast<std::size_t>(base + kSegmentSize - gap);
  if (gap_bytes != 0) {
    os_protect(gap, gap_bytes);
    segment->uncommitted_ += gap_bytes;
  }
  Page* page = &segment->pages_[0];
  // The block starts where it is handed out: no interior pointer, so has_aligned_ stays false
  // and usable_size is exact.
  page->start_ = base + kSegmentSize;
  page->block_size_ = static_cast<std::size_t>(end - page->start_);
  huge_publish(heap, segment);
  return page->start_;
}

}  // namespace

void* huge_alloc(HeapCore* heap, std::size_t size, std::size_t alignment) noexcept {
  if (size > kHugeMax || alignment > kHugeMax) return nullptr;
  if (alignment > kLargeMax) return huge_alloc_over_aligned(heap, size, alignment);
  const std::size_t os_page = os_page_size();
  const std::size_t extra = (alignment > kMinAlign ? alignment : 0) + (kSecure ? os_page : 0);
  const std::size_t total = (header_size() + size + extra + os_page - 1) / os_page * os_page;
  Segment* segment = segment_create(heap, PageKind::kHuge, total);
  if (segment == nullptr) return nullptr;
  Page* page = &segment->pages_[0];
  std::uint8_t* start = nullptr;
  std::uint8_t* end = nullptr;
  page_area(segment, page, &start, &end);
  page->start_ = start;
  page->block_size_ = static_cast<std::size_t>(end - start);
  huge_publish(heap, segment);
  if (alignment > kMinAlign) {
    const auto aligned =
        (reinterpret_cast<std::uintptr_t>(start) + alignment - 1) & ~(alignment - 1);
    if (aligned != reinterpret_cast<std::uintptr_t>(start)) {
      page->has_aligned_.store(true, std::memory_order_relaxed);  // relaxed: see Page
    }
    return reinterpret_cast<void*>(aligned);
  }
  return start;
}

void huge_free(Segment* segment) noexcept {
  {
    std::lock_guard guard(g_huge_mutex);
    list_remove(&g_huge, segment);
  }
  g_huge_allocated.fetch_sub(static_cast<std::int64_t>(segment->pages_[0].block_size_),
                             std::memory_order_relaxed);  // relaxed: statistics
  segment_release(segment);
}

void huge_disown(HeapCore* heap, bool release) noexcept {
  std::lock_guard guard(g_huge_mutex);
  for (Segment* s = g_huge.first_; s != nullptr;) {
    Segment* next = s->list_next_;
    if (s->heap_ == heap) {
      if (release) {
        list_remove(&g_huge, s);
        g_huge_allocated.fetch_sub(static_cast<std::int64_t>(s->pages_[0].block_size_),
                                   std::memory_order_relaxed);  // relaxed: statistics
        segment_release(s);
      } else {
        s->heap_ = nullptr;
      }
    }
    s = next;
  }
}

}  // namespace zap::zimalloc::detail
