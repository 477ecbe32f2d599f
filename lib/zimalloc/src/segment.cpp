// Segments: 4 MiB-aligned spans from the OS, split into pages of one kind. Creating and
// releasing them, taking and returning pages, delayed purging of free pages, the cache of empty
// segments, and the segment map. (Abandoned segments: abandon.cpp; huge ones: huge.cpp.)
#include <algorithm>
#include <cstring>
#include <new>

#include "internal.hpp"

namespace zap::zimalloc::detail {
namespace {

// The segment map: one bit per 4 MiB of address space (47-bit user space), set while a segment
// starts there. Lets secure builds reject pointers zimalloc never handed out.
constexpr std::size_t kMapBits = std::size_t{1} << (47 - kSegmentShift);
std::atomic<std::uint64_t> g_segment_map[kMapBits / 64];

void map_set(Segment* segment, bool present) noexcept {
  const std::size_t index = reinterpret_cast<std::uintptr_t>(segment) >> kSegmentShift;
  if (index >= kMapBits) return;
  const std::uint64_t bit = std::uint64_t{1} << (index % 64);
  // release/acquire with segment_is_known: a pointer's segment header is initialised before it
  // is known. (A pointer handed to another thread is ordered by the hand-off anyway.)
  if (present) {
    g_segment_map[index / 64].fetch_or(bit, std::memory_order_release);
  } else {
    g_segment_map[index / 64].fetch_and(~bit, std::memory_order_release);
  }
}

}  // namespace

void list_push(SegmentQueue* queue, Segment* segment, SegmentList which) noexcept {
  segment->list_ = which;
  segment->list_prev_ = queue->last_;
  segment->list_next_ = nullptr;
  if (queue->last_ != nullptr) {
    queue->last_->list_next_ = segment;
  } else {
    queue->first_ = segment;
  }
  queue->last_ = segment;
}

void list_remove(SegmentQueue* queue, Segment* segment) noexcept {
  if (segment->list_prev_ != nullptr) {
    segment->list_prev_->list_next_ = segment->list_next_;
  } else {
    queue->first_ = segment->list_next_;
  }
  if (segment->list_next_ != nullptr) {
    segment->list_next_->list_prev_ = segment->list_prev_;
  } else {
    queue->last_ = segment->list_prev_;
  }
  segment->list_next_ = segment->list_prev_ = nullptr;
  segment->list_ = SegmentList::kNone;
}

SegmentQueue* heap_list(HeapCore* heap, Segment* segment) noexcept {
  switch (segment->list_) {
    case SegmentList::kFreePages:
      return &heap->free_page_segments_[static_cast<int>(segment->kind_)];
    case SegmentList::kEmpty:
      return &heap->empty_segments_;
    default:
      return nullptr;
  }
}

void unlist(HeapCore* heap, Segment* segment) noexcept {
  if (SegmentQueue* queue = heap_list(heap, segment)) list_remove(queue, segment);
}

void link_to_heap(HeapCore* heap, Segment* segment) noexcept {
  segment->heap_ = heap;
  segment->prev_ = nullptr;
  segment->next_ = heap->segments_;
  if (heap->segments_ != nullptr) heap->segments_->prev_ = segment;
  heap->segments_ = segment;
}

void unlink_from_heap(HeapCore* heap, Segment* segment) noexcept {
  if (segment->prev_ != nullptr) {
    segment->prev_->next_ = segment->next_;
  } else {
    heap->segments_ = segment->next_;
  }
  if (segment->next_ != nullptr) segment->next_->prev_ = segment->prev_;
  segment->next_ = segment->prev_ = nullptr;
}

std::size_t header_size() noexcept {
  if constexpr (kSecure) {
    // The header, then a guard page, then the first page's blocks.
    const std::size_t os_page = os_page_size();
    return (sizeof(Segment) + os_page - 1) / os_page * os_page + os_page;
  } else {
    return (sizeof(Segment) + kBlockStartAlign - 1) / kBlockStartAlign * kBlockStartAlign;
  }
}

void segment_release(Segment* segment) noexcept {
  map_set(segment, false);
  os_free(segment, segment->size_, segment->size_ - segment->uncommitted_);
}

// The part of a page's area that purging gives back: whole OS pages (the first page of a
// segment shares its first OS page with the header).
void purge_range(const Segment* segment, const Page* page, std::uint8_t** from,
                 std::uint8_t** end) noexcept {
  std::uint8_t* start = nullptr;
  page_area(segment, page, &start, end);
  const std::size_t os_page = os_page_size();
  *from = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(start) + os_page - 1) &
                                          ~(os_page - 1));
}

Segment* segment_create(HeapCore* heap, PageKind kind, std::size_t size,
                        std::size_t end_alignment) noexcept {
  // With end_alignment >= kSegmentSize, segment + kSegmentSize aligned to it makes the segment
  // itself kSegmentSize-aligned too (segment_of needs that).
  void* memory = end_alignment == 0
                     ? os_alloc_aligned(size, kSegmentSize, heap->numa_node_)
                     : os_alloc_offset_aligned(size, end_alignment, kSegmentSize, heap->numa_node_);
  if (memory == nullptr) return nullptr;
  auto* segment = new (memory) Segment();  // fresh mmap memory: zero except what we set
  segment->cookie_ = reinterpret_cast<std::uintptr_t>(segment) ^ g_keys.xor_key;
  segment->kind_ = kind;
  segment->size_ = size;
  segment->numa_node_ = heap->numa_node_;
  switch (kind) {
    case PageKind::kSmall:
      segment->page_shift_ = kSmallPageShift;
      break;
    case PageKind::kMedium:
      segment->page_shift_ = kMediumPageShift;
      break;
    case PageKind::kLarge:
      segment->page_shift_ = kSegmentShift;
      break;
    case PageKind::kHuge:
      segment->page_shift_ = 63;
      break;
  }
  segment->page_count_ =
      static_cast<std::uint8_t>(kind == PageKind::kHuge ? 1 : kSegmentSize >> segment->page_shift_);
  for (std::uint8_t i = 0; i < segment->page_count_; ++i) segment->pages_[i].index_ = i;
  if constexpr (kSecure) {
    const std::size_t os_page = os_page_size();
    auto* base = reinterpret_cast<std::uint8_t*>(segment);
    os_protect(base + header_size() - os_page, os_page);
    segment->uncommitted_ += os_page;
    for (std::uint8_t i = 0; i < segment->page_count_; ++i) {
      std::uint8_t* start = nullptr;
      std::uint8_t* end = nullptr;
      page_area(segment, &segment->pages_[i], &start, &end);
      os_protect(end, os_page);  // page_area leaves the last OS page of each page as a guard
      segment->uncommitted_ += os_page;
    }
  }
  map_set(segment, true);
  return segment;
}

namespace {

// A segment of `kind` with a free page for `heap`: an empty one of the heap's cache, one
// reclaimed from an exited thread, or a new one.
bool heap_add_segment(HeapCore* heap, PageKind kind, bool reclaim) noexcept {
  for (Segment* s = heap->empty_segments_.first_; s != nullptr; s = s->list_next_) {
    if (s->kind_ != kind) continue;
    list_remove(&heap->empty_segments_, s);
    list_push(&heap->free_page_segments_[static_cast<int>(kind)], s, SegmentList::kFreePages);
    return true;
  }
  if (reclaim && heap->is_thread_default_ && heap_reclaim_abandoned(heap, false)) {
    return true;  // the caller looks again; the reclaimed segment may have room
  }
  Segment* segment = segment_create(heap, kind, kSegmentSize);
  if (segment == nullptr) return false;
  // relaxed: nobody else can hold a pointer into this segment yet.
  segment->thread_id_.store(heap->thread_id_, std::memory_order_relaxed);
  link_to_heap(heap, segment);
  list_push(&heap->free_page_segments_[static_cast<int>(kind)], segment, SegmentList::kFreePages);
  heap_sample_os_peaks(heap, nullptr, nullptr);
  return true;
}

}  // namespace

bool segment_is_known(const void* p) noexcept {
  // As segment_of: `p - 1`, so that a huge block at its segment's end maps to its header.
  const std::size_t index = (reinterpret_cast<std::uintptr_t>(p) - 1) >> kSegmentShift;
  if (index >= kMapBits) return false;
  // acquire: pairs with map_set's release.
  const bool present =
      (g_segment_map[index / 64].load(std::memory_order_acquire) >> (index % 64)) & 1;
  if (!present) return false;
  const Segment* segment = segment_of(p);
  if (segment->cookie_ != (reinterpret_cast<std::uintptr_t>(segment) ^ g_keys.xor_key))
    return false;
  // `p - 1` maps a pointer just past a segment (a foreign block at its end) to that segment too:
  // only pointers inside its reservation are ours.
  return static_cast<std::size_t>(static_cast<const std::uint8_t*>(p) -
                                  reinterpret_cast<const std::uint8_t*>(segment)) < segment->size_;
}

void page_area(const Segment* segment, const Page* page, std::uint8_t** start,
               std::uint8_t** end) noexcept {
  auto* base = reinterpret_cast<std::uint8_t*>(const_cast<Segment*>(segment));
  const std::size_t span =
      segment->kind_ == PageKind::kHuge ? segment->size_ : std::size_t{1} << segment->page_shift_;
  std::uint8_t* page_start =
      base +
      (std::size_t{page->index_} << (segment->kind_ == PageKind::kHuge ? 0 : segment->page_shift_));
  *start = page->index_ == 0 ? base + header_size() : page_start;
  *end = page_start + span;
  if constexpr (kSecure) *end -= os_page_size();
}

Page* segment_page_alloc(HeapCore* heap, PageKind kind) noexcept {
  if (kind == PageKind::kLarge) {
    Segment* segment = nullptr;
    for (Segment* s = heap->empty_segments_.first_; s != nullptr; s = s->list_next_) {
      if (s->kind_ == PageKind::kLarge) {
        segment = s;
        list_remove(&heap->empty_segments_, s);
        break;
      }
    }
    if (segment == nullptr) {
      segment = segment_create(heap, kind, kSegmentSize);
      if (segment == nullptr) return nullptr;
      segment->thread_id_.store(heap->thread_id_, std::memory_order_relaxed);  // as above
      link_to_heap(heap, segment);
    }
    Page* page = &segment->pages_[0];
    page->in_use_ = true;
    page->is_dirty_ = false;
    segment->used_pages_ = 1;
    return page;
  }
  SegmentQueue* queue = &heap->free_page_segments_[static_cast<int>(kind)];
  for (int attempt = 0; queue->first_ == nullptr; ++attempt) {
    // A few reclaimed segments may bring no free page of this kind; then take a new one.
    if (!heap_add_segment(heap, kind, attempt < 4)) return nullptr;
  }
  Segment* segment = queue->first_;
  Page* chosen = nullptr;
  for (std::uint8_t i = 0; i < segment->page_count_; ++i) {
    Page* page = &segment->pages_[i];
    if (page->in_use_) continue;
    if (chosen == nullptr || (page->is_dirty_ && !chosen->is_dirty_)) chosen = page;
    if (chosen->is_dirty_) break;  // prefer memory that is still committed (and warm)
  }
  if (!chosen->is_dirty_ && chosen->purge_at_ms_ != 0) {
    std::uint8_t* from = nullptr;
    std::uint8_t* end = nullptr;
    purge_range(segment, chosen, &from, &end);
    const auto bytes = static_cast<std::size_t>(end - from);
    os_recommitted(bytes);  // purged before: counts again
    segment->uncommitted_ -= bytes;
  }
  chosen->in_use_ = true;
  chosen->is_dirty_ = false;
  chosen->purge_at_ms_ = 0;
  if (++segment->used_pages_ == segment->page_count_) list_remove(queue, segment);
  return chosen;
}

void segment_page_free(HeapCore* heap, Page* page) noexcept {
  Segment* segment = segment_of(page);
  page->in_use_ = false;
  page->is_dirty_ = true;
  page->free_ = page->local_free_ = nullptr;
  const std::uint64_t now = heap->now_ms_;  // as of the last tick: no clock read here
  const std::uint32_t delay = g_purge_delay_ms.load(std::memory_order_relaxed);
  page->purge_at_ms_ = now + delay;
  const bool was_full = segment->used_pages_ == segment->page_count_;
  if (--segment->used_pages_ == 0) {
    unlist(heap, segment);
    segment->expire_ms_ = now + delay;
    list_push(&heap->empty_segments_, segment, SegmentList::kEmpty);
  } else if (was_full) {
    list_push(&heap->free_page_segments_[static_cast<int>(segment->kind_)], segment,
              SegmentList::kFreePages);
  }
}

void heap_purge(HeapCore* heap, bool force, std::uint64_t now) noexcept {
  // Empty segments past their delay go back to the OS.
  for (Segment* s = heap->empty_segments_.first_; s != nullptr;) {
    Segment* next = s->list_next_;
    if (force || s->expire_ms_ <= now) {
      list_remove(&heap->empty_segments_, s);
      unlink_from_heap(heap, s);
      segment_release(s);
    }
    s = next;
  }
  // Free pages of segments in use past their delay are decommitted.
  for (int kind = 0; kind < 2; ++kind) {
    for (Segment* s = heap->free_page_segments_[kind].first_; s != nullptr; s = s->list_next_) {
      for (std::uint8_t i = 0; i < s->page_count_; ++i) {
        Page* page = &s->pages_[i];
        if (page->in_use_ || !page->is_dirty_ || (!force && page->purge_at_ms_ > now)) continue;
        std::uint8_t* from = nullptr;
        std::uint8_t* end = nullptr;
        purge_range(s, page, &from, &end);
        os_purge(from, static_cast<std::size_t>(end - from));
        s->uncommitted_ += static_cast<std::size_t>(end - from);
        page->is_dirty_ = false;
        page->purge_at_ms_ = 1;  // nonzero: purged (segment_page_alloc counts it back)
      }
    }
  }
}

void heap_release_segments(HeapCore* heap) noexcept {
  while (Segment* segment = heap->segments_) {
    unlink_from_heap(heap, segment);
    segment_release(segment);
  }
  heap->free_page_segments_[0] = heap->free_page_segments_[1] = SegmentQueue{};
  heap->empty_segments_ = SegmentQueue{};
}

}  // namespace zap::zimalloc::detail
