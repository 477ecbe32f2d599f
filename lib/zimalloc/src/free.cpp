// free: the generic path behind free_fast (internal.hpp) -- aligned and huge blocks, frees from
// other threads (the atomic thread-free list), and the secure build's checks.
#include "internal.hpp"

#include <algorithm>

namespace zap::zimalloc::detail {
namespace {

bool list_contains(const Page* page, const Block* list, const Block* block) noexcept {
  std::uint32_t steps = 0;
  for (const Block* b = list; b != nullptr; b = decode_next(page, b->next)) {
    if (b == block) return true;
    if (++steps > page->capacity_) break;
  }
  return false;
}

// Secure builds, owner thread: is `block` already free? Only looked for when its first word
// decodes to a valid link of this page (it then may be a free block), so that a normal free
// costs no list walk.
[[maybe_unused]] void check_double_free(const Page* page, const Block* block) noexcept {
  const Block* next = decode_raw(page, block->next);
  if (next != nullptr && !is_block_of(page, next)) return;
  // acquire: we read the links of blocks other threads pushed (pairs with their release CAS).
  const auto* remote = reinterpret_cast<const Block*>(
      page->thread_free_.load(std::memory_order_acquire) & kTfPointerMask);
  if (list_contains(page, page->free_, block) || list_contains(page, page->local_free_, block) ||
      list_contains(page, remote, block)) {
    report_error("double free", block);
  }
}

void free_remote(Segment* segment, Page* page, Block* block) noexcept {
  // relaxed: the CAS below validates what we read.
  std::uintptr_t head = page->thread_free_.load(std::memory_order_relaxed);
  bool notified = false;
  for (;;) {
    const std::uintptr_t state = head & kTfStateMask;
    if (state == kTfInFull && !notified) {
      // The page sits in its owner's full queue: tell the owner, *before* our block is visible
      // (once it is, the owner may free the page and the segment). release: pairs with the
      // owner's acquire exchange of the mask (only the bit matters; the blocks are ordered by
      // the CAS below).
      segment->notify_mask_.fetch_or(std::uint64_t{1} << page->index_, std::memory_order_release);
      notified = true;
    }
    block->next = encode_next(page, reinterpret_cast<Block*>(head & kTfPointerMask));
    const std::uintptr_t next_state = state == kTfInFull ? kTfNotified : state;
    const std::uintptr_t count = std::min(kTfCountMax, (head >> kTfCountShift) + 1);
    // release: publishes block->next and our last writes to the block to the owner, whose
    // page_collect takes the list with acquire. relaxed on failure: we retry.
    if (page->thread_free_.compare_exchange_weak(
            head, reinterpret_cast<std::uintptr_t>(block) | next_state | (count << kTfCountShift),
            std::memory_order_release, std::memory_order_relaxed)) {
      return;
    }
  }
}

}  // namespace

void free_generic(Segment* segment, Page* page, void* p) noexcept {
  if (segment->kind_ == PageKind::kHuge) {
    if constexpr (kSecure) {
      if (p != page->start_ && !page->has_aligned_.load(std::memory_order_relaxed)) {
        report_error("free of a pointer inside a block", p);
      }
      // Two racing frees of one huge block (the first has not unmapped it yet) meet on this
      // word, unused otherwise in a huge page. relaxed: as mark_freed, only atomicity matters.
      // (A later second free finds the segment gone: "did not allocate, or freed already".)
      if (page->thread_free_.exchange(1, std::memory_order_relaxed) != 0) {
        report_error("double free (the block is already free)", p);
      }
    }
    huge_free(segment);
    return;
  }
  if constexpr (kSecure) {
    if (!page->in_use_) report_error("free of a pointer into a free page (double free?)", p);
  }
  auto* block = static_cast<Block*>(p);
  // relaxed: see Page::has_aligned_.
  if (page->has_aligned_.load(std::memory_order_relaxed)) {
    block = block_start(page, p);
  } else if constexpr (kSecure) {
    if (!is_block_of(page, p))
      report_error("free of a pointer inside a block (or never allocated)", p);
  }
  if constexpr (kSecure) {
    // Any two frees of one block meet on its tag, whichever threads they come from.
    if (!mark_freed(block)) report_error("double free (the block is already free)", block);
  }
  // relaxed: see Segment::thread_id_.
  if (segment->thread_id_.load(std::memory_order_relaxed) == thread_id()) {
    // A second look, for a tag overwritten by a write after free: the owner's lists.
    if constexpr (kSecure) check_double_free(page, block);
    HeapCore* heap = segment->heap_;
    block->next = encode_next(page, page->local_free_);
    page->local_free_ = block;
    if (--page->used_ == 0) {
      page_retire(heap, page);
    } else if (page->in_full_) {
      page_unfull(heap, page);
    }
    return;
  }
  free_remote(segment, page, block);
}

}  // namespace zap::zimalloc::detail
