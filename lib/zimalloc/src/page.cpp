// Pages: their free lists (extend, collect), the per-size-class page queues of a heap, the
// direct lookup table, and malloc's generic path (the slow path of the fast path in internal.hpp).
#include <algorithm>
#include <cerrno>

#include "internal.hpp"

namespace zap::zimalloc::detail {
namespace {

constexpr std::size_t kExtendBytes = 8 << 10;  // a fresh page hands out blocks 8 KiB at a time
constexpr std::uint32_t kTickEvery = 64;       // generic calls between looks at the clock

PageKind kind_of_bin(std::size_t bin) noexcept {
  const std::size_t size = bin_block_size(bin);
  if (size <= kSmallMax) return PageKind::kSmall;
  if (size <= kMediumMax) return PageKind::kMedium;
  return PageKind::kLarge;
}

// Points the direct_ slots of `bin` at the first page of its queue.
void update_direct(HeapCore* heap, std::size_t bin) noexcept {
  const std::size_t size = bin_block_size(bin);
  if (bin == kBinFull || size > kDirectMax) return;
  const std::size_t first_slot = bin == 0 ? 0 : bin_block_size(bin - 1) / 8 + 1;
  Page* page = heap->queues_[bin].first_;
  if (page == nullptr) page = &g_empty_page;
  for (std::size_t slot = first_slot; slot <= size / 8; ++slot) heap->direct_[slot] = page;
}

// Carves the next blocks of a page into its (empty) free list.
void page_extend(Page* page) noexcept {
  const std::size_t bs = page->block_size_;
  const std::uint32_t room = page->reserved_ - page->capacity_;
  const std::uint32_t n = std::min<std::uint32_t>(
      room, static_cast<std::uint32_t>(std::max<std::size_t>(1, kExtendBytes / bs)));
  std::uint8_t* first = page->start_ + std::size_t{page->capacity_} * bs;
  page->capacity_ += n;  // before encoding: secure decode checks links against capacity_
  Block* next = page->free_;
  for (std::uint32_t i = n; i-- > 0;) {
    auto* block = reinterpret_cast<Block*>(first + std::size_t{i} * bs);
    block->next = encode_next(page, next);
    // Free, never allocated: a free of it is a double free too. (Secure blocks are >= 16 B.)
    if constexpr (kSecure) mark_carved(block);
    next = block;
  }
  page->free_ = next;
}

// Moves a page without free blocks to the full queue, so the search skips it. Fails (false)
// when another thread freed into it meanwhile: then it has blocks after all.
bool page_to_full(HeapCore* heap, Page* page) noexcept {
  std::uintptr_t expected = kTfNormal;
  // relaxed both ways: on success the state bit only tells future freers to notify us (their
  // CAS on this word orders the rest); on failure page_collect takes the list with acquire.
  if (!page->thread_free_.compare_exchange_strong(expected, kTfInFull, std::memory_order_relaxed,
                                                  std::memory_order_relaxed)) {
    return false;
  }
  page_queue_remove(heap, page);
  page->in_full_ = true;
  ++heap->full_pages_;
  page_queue_push_front(heap, kBinFull, page);
  return true;
}

void page_init(Page* page, std::size_t bin) noexcept {
  Segment* segment = segment_of(page);
  std::uint8_t* start = nullptr;
  std::uint8_t* end = nullptr;
  page_area(segment, page, &start, &end);
  page->bin_ = static_cast<std::uint8_t>(bin);
  page->block_size_ = bin_block_size(bin);
  page->start_ = start;
  page->reserved_ =
      static_cast<std::uint32_t>(static_cast<std::size_t>(end - start) / page->block_size_);
  page->capacity_ = 0;
  page->used_ = 0;
  page->free_ = nullptr;
  page->local_free_ = nullptr;
  page->in_full_ = false;
  page->has_aligned_.store(false, std::memory_order_relaxed);  // relaxed: see Page::has_aligned_
  // relaxed: the page is not yet visible to any other thread (no block handed out).
  page->thread_free_.store(kTfNormal, std::memory_order_relaxed);
}

// The first page of `bin` with a free block, extending or collecting pages on the way; moves
// exhausted pages to the full queue; takes a fresh page from a segment when none has room.
Page* find_free_page(HeapCore* heap, std::size_t bin) noexcept {
  PageQueue* queue = &heap->queues_[bin];
  for (int attempt = 0; attempt < 2; ++attempt) {
    Page* page = queue->first_;
    while (page != nullptr) {
      Page* next = page->next_;
      // With free_ and local_free_ both non-empty (a heartbeat, not a need), other threads'
      // frees can wait: taking them now would mean walking their list.
      if (page->free_ == nullptr || page->local_free_ == nullptr) page_collect(page);
      if (page->free_ == nullptr && page->capacity_ < page->reserved_) page_extend(page);
      if (page->free_ == nullptr && !page_to_full(heap, page)) page_collect(page);
      if (page->free_ != nullptr) {
        if (page != queue->first_) {
          page_queue_remove(heap, page);
          page_queue_push_front(heap, bin, page);
        }
        return page;
      }
      page = next;
    }
    if (heap->full_pages_ == 0 || !heap_process_notifications(heap)) break;
  }
  Page* page = segment_page_alloc(heap, kind_of_bin(bin));
  if (page == nullptr) return nullptr;
  page_init(page, bin);
  page_extend(page);
  page_queue_push_front(heap, bin, page);
  return page;
}

}  // namespace

void page_queue_remove(HeapCore* heap, Page* page) noexcept {
  const std::size_t index = page->in_full_ ? kBinFull : page->bin_;
  PageQueue* queue = &heap->queues_[index];
  if (page->prev_ != nullptr) page->prev_->next_ = page->next_;
  if (page->next_ != nullptr) page->next_->prev_ = page->prev_;
  if (queue->last_ == page) queue->last_ = page->prev_;
  if (queue->first_ == page) {
    queue->first_ = page->next_;
    update_direct(heap, index);
  }
  page->next_ = nullptr;
  page->prev_ = nullptr;
}

void page_queue_push_front(HeapCore* heap, std::size_t index, Page* page) noexcept {
  PageQueue* queue = &heap->queues_[index];
  page->prev_ = nullptr;
  page->next_ = queue->first_;
  if (queue->first_ != nullptr) queue->first_->prev_ = page;
  queue->first_ = page;
  if (queue->last_ == nullptr) queue->last_ = page;
  update_direct(heap, index);
}

void page_queue_push_back(HeapCore* heap, std::size_t index, Page* page) noexcept {
  PageQueue* queue = &heap->queues_[index];
  page->next_ = nullptr;
  page->prev_ = queue->last_;
  if (queue->last_ != nullptr) queue->last_->next_ = page;
  queue->last_ = page;
  if (queue->first_ == nullptr) {
    queue->first_ = page;
    update_direct(heap, index);
  }
}

void page_collect(Page* page) noexcept {
  // relaxed peek: most calls find nothing; the exchange below is what synchronises.
  std::uintptr_t head = page->thread_free_.load(std::memory_order_relaxed);
  if ((head & kTfPointerMask) != 0) {
    // acquire: pairs with the release CAS of each remote free, so the blocks' links (and the
    // freeing thread's last writes to them) are visible. The state bits stay as they are; the
    // pointer and the count go.
    while (!page->thread_free_.compare_exchange_weak(
        head, head & kTfStateMask, std::memory_order_acquire, std::memory_order_relaxed)) {
    }
    auto* first = reinterpret_cast<Block*>(head & kTfPointerMask);
    const auto count = static_cast<std::uint32_t>(head >> kTfCountShift);
    if ((page->local_free_ == nullptr || page->free_ == nullptr) && count < kTfCountMax &&
        !kSecure) {
      // The list becomes local_free_ as it is, its links untouched until malloc pops them; a
      // local_free_ already there moves up to the empty free_ first.
      if (page->local_free_ != nullptr) page->free_ = page->local_free_;
      page->local_free_ = first;
      page->used_ -= count;
    } else {
      // Appending to local_free_ needs the tail: walk (secure builds always do, to catch a
      // cycle that a double free made). find_free_page does not come here.
      Block* last = first;
      std::uint32_t walked = 1;
      for (Block* next = decode_next(page, last->next); next != nullptr;
           next = decode_next(page, last->next)) {
        last = next;
        if (++walked > page->capacity_)
          report_error("cycle in a thread-free list (double free?)", next);
      }
      last->next = encode_next(page, page->local_free_);
      page->local_free_ = first;
      page->used_ -= walked;
    }
  }
  if (page->free_ == nullptr) {
    page->free_ = page->local_free_;
    page->local_free_ = nullptr;
  }
}

void page_unfull(HeapCore* heap, Page* page) noexcept {
  // Back to kTfNormal, keeping the list. relaxed: only the state bits change; the blocks are
  // taken later by page_collect's acquire.
  std::uintptr_t head = page->thread_free_.load(std::memory_order_relaxed);
  while (!page->thread_free_.compare_exchange_weak(
      head, head & ~kTfStateMask, std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
  page_queue_remove(heap, page);
  page->in_full_ = false;
  --heap->full_pages_;
  // At the back: the page now serving this size keeps serving it, and this one is found when
  // that runs dry (at the front, a page with one free block would go full and back each time).
  page_queue_push_back(heap, page->bin_, page);
}

void page_retire(HeapCore* heap, Page* page) noexcept {
  if (page->in_full_) page_unfull(heap, page);
  PageQueue* queue = &heap->queues_[page->bin_];
  if (queue->first_ == page && queue->last_ == page && page->block_size_ <= kMediumMax) {
    // The only page of its class: keep it for a while, so that a malloc/free of one block in a
    // loop does not take and return a page each time. heap_free_retired frees it later.
    page->purge_at_ms_ = heap->now_ms_ + g_purge_delay_ms.load(std::memory_order_relaxed);
    heap->retired_min_ = std::min<std::size_t>(heap->retired_min_, page->bin_);
    heap->retired_max_ = std::max<std::size_t>(heap->retired_max_, page->bin_);
    return;
  }
  page_queue_remove(heap, page);
  segment_page_free(heap, page);
}

void heap_free_retired(HeapCore* heap, bool force, std::uint64_t now) noexcept {
  std::size_t min = kBinCount;
  std::size_t max = 0;
  for (std::size_t bin = heap->retired_min_; bin <= heap->retired_max_ && bin < kBinCount; ++bin) {
    Page* page = heap->queues_[bin].first_;
    if (page == nullptr) continue;
    page_collect(page);
    if (page->used_ != 0) continue;
    if (force || page->purge_at_ms_ <= now) {
      page_queue_remove(heap, page);
      segment_page_free(heap, page);
    } else {
      min = std::min(min, bin);
      max = std::max(max, bin);
    }
  }
  heap->retired_min_ = min;
  heap->retired_max_ = max;
}

bool heap_process_notifications(HeapCore* heap) noexcept {
  bool moved = false;
  for (Segment* segment = heap->segments_; segment != nullptr; segment = segment->next_) {
    // relaxed peek, then acquire exchange: pairs with the freer's release fetch_or.
    if (segment->notify_mask_.load(std::memory_order_relaxed) == 0) continue;
    std::uint64_t mask = segment->notify_mask_.exchange(0, std::memory_order_acquire);
    while (mask != 0) {
      Page* page = &segment->pages_[std::countr_zero(mask)];
      mask &= mask - 1;
      if (page->in_use_ && page->in_full_) {
        page_unfull(heap, page);
        moved = true;
      }
    }
  }
  return moved;
}

std::int64_t heap_count_allocated(const HeapCore* heap) noexcept {
  std::int64_t bytes = 0;
  for (const PageQueue& queue : heap->queues_) {
    for (const Page* page = queue.first_; page != nullptr; page = page->next_) {
      bytes += static_cast<std::int64_t>(std::size_t{page->used_} * page->block_size_);
    }
  }
  return bytes;
}

void heap_sample_os_peaks(HeapCore* heap, std::int64_t* committed,
                          std::int64_t* reserved) noexcept {
  std::int64_t c = 0;
  std::int64_t r = 0;
  for (const Segment* s = heap->segments_; s != nullptr; s = s->next_) {
    r += static_cast<std::int64_t>(s->size_);
    c += static_cast<std::int64_t>(s->size_ - s->uncommitted_);
  }
  heap->peak_committed_ = std::max(heap->peak_committed_, c);
  heap->peak_reserved_ = std::max(heap->peak_reserved_, r);
  if (committed != nullptr) *committed = c;
  if (reserved != nullptr) *reserved = r;
}

void heap_sync_stats(HeapCore* heap) noexcept {
  heap_sample_os_peaks(heap, nullptr, nullptr);
  heap->allocated_ = heap_count_allocated(heap);
  heap->peak_allocated_ = std::max(heap->peak_allocated_, heap->allocated_);
  const std::int64_t delta = heap->allocated_ - heap->synced_allocated_;
  if (delta == 0) return;
  heap->synced_allocated_ = heap->allocated_;
  // relaxed: statistics, ordered with nothing.
  const std::int64_t total = g_allocated.fetch_add(delta, std::memory_order_relaxed) + delta;
  std::int64_t peak = g_peak_allocated.load(std::memory_order_relaxed);
  while (total > peak &&
         !g_peak_allocated.compare_exchange_weak(peak, total, std::memory_order_relaxed)) {
  }
}

void heap_tick(HeapCore* heap, bool force) noexcept {
  const std::uint64_t now = os_now_ms();
  heap->now_ms_ = now;
  if (!force && now < heap->next_tick_ms_) return;
  const std::uint32_t delay = g_purge_delay_ms.load(std::memory_order_relaxed);
  heap->next_tick_ms_ = now + std::max<std::uint32_t>(1, delay / 2);
  heap_sync_stats(heap);
  heap_free_retired(heap, force, now);
  heap_purge(heap, force, now);
}

void* malloc_generic(HeapCore* heap, std::size_t size) noexcept {
  // The thread's first allocation, or an orphaned Heap (both have only empty direct_ slots, so
  // the fast path always lands here for them).
  if (heap == &g_empty_heap || heap->orphaned_) [[unlikely]] {
    heap = heap_prepare(heap);
    if (heap == nullptr) return nullptr;
  }
  heap->heartbeat_ = kHeartbeat;
  if (size > kLargeMax) return huge_alloc(heap, size, 0);
  static thread_local constinit std::uint32_t calls __attribute__((tls_model("initial-exec"))) = 0;
  if (++calls % kTickEvery == 0) heap_tick(heap, false);
  const std::size_t bin = bin_of(size);
  Page* page = find_free_page(heap, bin);
  if (page == nullptr) [[unlikely]] {
    errno = ENOMEM;
    return nullptr;
  }
  return page_pop(heap, page, page->free_);
}

}  // namespace zap::zimalloc::detail
