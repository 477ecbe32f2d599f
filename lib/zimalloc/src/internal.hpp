// Internal: what the levels of zimalloc share -- the thread's heap, pointer-to-segment/page
// arithmetic, free-list encoding (secure builds), the inline fast paths, and the functions each
// level (page.cpp, segment.cpp, free.cpp, heap.cpp) offers to the others.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "os.hpp"
#include "types.hpp"

namespace zap::zimalloc::detail {

#if defined(ZAP_ZIMALLOC_SECURE)
inline constexpr bool kSecure = true;
#else
inline constexpr bool kSecure = false;
#endif

// ---- process-wide state (heap.cpp) --------------------------------------------------------

// The heap of a thread that has not allocated yet: every direct_ slot is &g_empty_page.
extern HeapCore g_empty_heap;

// The calling thread's heap. Initial-exec TLS with a constant initializer: reading it is one
// instruction, and touching it never allocates (no TLS init function, no __tls_get_addr).
inline thread_local constinit HeapCore* tl_heap __attribute__((tls_model("initial-exec"))) =
    &g_empty_heap;

// Id of the calling thread: the address of its tl_heap (unique among live threads).
inline std::uintptr_t thread_id() noexcept { return reinterpret_cast<std::uintptr_t>(&tl_heap); }

// Keys of the encoded free lists (secure builds); set once before the first heap exists.
struct Keys {
  std::uintptr_t xor_key;
  std::uintptr_t add_key;
};
extern Keys g_keys;

// Purge delay in milliseconds (set_purge_delay). relaxed: a tuning value.
extern std::atomic<std::uint32_t> g_purge_delay_ms;

// ---- pointer arithmetic -------------------------------------------------------------------

// The segment holding p (p != nullptr). `p - 1`, as mimalloc does: no block starts at the start
// of its segment (the header is there), so for every ordinary block this is the usual mask; a
// huge block aligned to kSegmentSize or more starts exactly at the end of its segment's first
// kSegmentSize bytes (huge.cpp), and `p - 1` still finds its header. One extra ALU operation.
inline Segment* segment_of(const void* p) noexcept {
  return reinterpret_cast<Segment*>((reinterpret_cast<std::uintptr_t>(p) - 1) & ~kSegmentMask);
}

inline Page* page_of(Segment* segment, const void* p) noexcept {
  const std::uintptr_t offset =
      reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(segment);
  return &segment->pages_[offset >> segment->page_shift_];
}

// Start of the block holding `p` (p may point inside it, for aligned allocations).
inline Block* block_start(const Page* page, const void* p) noexcept {
  const std::uintptr_t offset =
      reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(page->start_);
  return reinterpret_cast<Block*>(page->start_ + offset - offset % page->block_size_);
}

[[noreturn]] void report_error(const char* what, const void* p) noexcept;

// ---- free-list links (identity in normal builds; keyed and checked in secure builds) ------

inline std::uintptr_t encode_next(const Page* page, const Block* next) noexcept {
  if constexpr (!kSecure) {
    (void)page;
    return reinterpret_cast<std::uintptr_t>(next);
  } else {
    const std::uintptr_t x = reinterpret_cast<std::uintptr_t>(next) ^ g_keys.xor_key ^
                             reinterpret_cast<std::uintptr_t>(page);
    return std::rotl(x, static_cast<int>(g_keys.add_key & 63)) + g_keys.add_key;
  }
}

// In secure builds a decoded link must be a block boundary of this page (or null).
inline bool is_block_of(const Page* page, const void* p) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto start = reinterpret_cast<std::uintptr_t>(page->start_);
  return a >= start && a < start + std::uintptr_t{page->capacity_} * page->block_size_ &&
         (a - start) % page->block_size_ == 0;
}

inline Block* decode_raw(const Page* page, std::uintptr_t v) noexcept {
  if constexpr (!kSecure) {
    (void)page;
    return reinterpret_cast<Block*>(v);
  } else {
    const std::uintptr_t x = std::rotr(v - g_keys.add_key, static_cast<int>(g_keys.add_key & 63));
    return reinterpret_cast<Block*>(x ^ g_keys.xor_key ^ reinterpret_cast<std::uintptr_t>(page));
  }
}

inline Block* decode_next(const Page* page, std::uintptr_t v) noexcept {
  Block* next = decode_raw(page, v);
  if constexpr (kSecure) {
    if (next != nullptr && !is_block_of(page, next)) {
      report_error("corrupted free list (a write after free or past the end of a block?)", next);
    }
  }
  return next;
}

// ---- secure builds: the freed tag of a block (Block, types.hpp) --------------------------------

// Blocks of secure builds hold two words (the link and the tag): requests are at least this big.
inline constexpr std::size_t kSecureMinSize = 16;

inline std::atomic_ref<std::uintptr_t> freed_word(Block* block) noexcept {
  return std::atomic_ref<std::uintptr_t>(reinterpret_cast<std::uintptr_t*>(block)[1]);
}

// Keyed, so that user data left in a block is unlikely to look like the tag (and cannot be made
// to without knowing the keys).
inline std::uintptr_t freed_tag(const Block* block) noexcept {
  return std::rotl(reinterpret_cast<std::uintptr_t>(block) ^ g_keys.add_key, 29) ^ g_keys.xor_key;
}

// Tags `block` as free; false if it was tagged already (a double free). relaxed: the detection
// needs only the exchange's atomicity -- of two frees of one block, from any threads, the one
// later in the word's modification order reads the other's tag -- and nothing is published
// through the word (the block's links are ordered by the free lists themselves).
inline bool mark_freed(Block* block) noexcept {
  return freed_word(block).exchange(freed_tag(block), std::memory_order_relaxed) !=
         freed_tag(block);
}

// A block carved out of fresh page memory: free, never allocated (a free of it is a double free
// too). No other thread can reach it yet, so a plain store does what mark_freed's exchange does.
inline void mark_carved(Block* block) noexcept {
  freed_word(block).store(freed_tag(block), std::memory_order_relaxed);
}

// The block is handed out (or carved out as never allocated: then mark_carved first).
inline void mark_allocated(Block* block) noexcept {
  freed_word(block).store(0, std::memory_order_relaxed);  // relaxed: see mark_freed
}

// ---- level functions ------------------------------------------------------------------------

// page.cpp
void* malloc_generic(HeapCore* heap, std::size_t size) noexcept;
void page_collect(Page* page) noexcept;
void page_unfull(HeapCore* heap, Page* page) noexcept;
void page_retire(HeapCore* heap, Page* page) noexcept;
void page_queue_remove(HeapCore* heap, Page* page) noexcept;
void page_queue_push_front(HeapCore* heap, std::size_t queue, Page* page) noexcept;
void page_queue_push_back(HeapCore* heap, std::size_t queue, Page* page) noexcept;
bool heap_process_notifications(HeapCore* heap) noexcept;
void heap_tick(HeapCore* heap, bool force) noexcept;
void heap_sync_stats(HeapCore* heap) noexcept;  // counts allocated_ and adds it to the process
std::int64_t heap_count_allocated(const HeapCore* heap) noexcept;
// Raises the heap's peaks to its current committed/reserved bytes, which it returns.
void heap_sample_os_peaks(HeapCore* heap, std::int64_t* committed, std::int64_t* reserved) noexcept;
void heap_free_retired(HeapCore* heap, bool force, std::uint64_t now) noexcept;

// segment.cpp
void list_push(SegmentQueue* queue, Segment* segment, SegmentList which) noexcept;
void list_remove(SegmentQueue* queue, Segment* segment) noexcept;
void unlist(HeapCore* heap, Segment* segment) noexcept;  // off the heap list it is on
void link_to_heap(HeapCore* heap, Segment* segment) noexcept;
void unlink_from_heap(HeapCore* heap, Segment* segment) noexcept;
std::size_t header_size() noexcept;
// `end_alignment` (huge segments only; 0: none): the segment is placed so that the address
// segment + kSegmentSize is aligned to it (a power of two >= kSegmentSize).
Segment* segment_create(HeapCore* heap, PageKind kind, std::size_t size,
                        std::size_t end_alignment = 0) noexcept;
void segment_release(Segment* segment) noexcept;
void page_area(const Segment* segment, const Page* page, std::uint8_t** start,
               std::uint8_t** end) noexcept;
Page* segment_page_alloc(HeapCore* heap, PageKind kind) noexcept;
void segment_page_free(HeapCore* heap, Page* page) noexcept;
void heap_purge(HeapCore* heap, bool force, std::uint64_t now) noexcept;
void heap_release_segments(HeapCore* heap) noexcept;
bool segment_is_known(const void* p) noexcept;

// abandon.cpp
void heap_abandon_segments(HeapCore* heap) noexcept;
bool heap_reclaim_abandoned(HeapCore* heap, bool all) noexcept;
void abandoned_lock() noexcept;
void abandoned_unlock() noexcept;

// huge.cpp
void* huge_alloc(HeapCore* heap, std::size_t size, std::size_t alignment) noexcept;
void huge_free(Segment* segment) noexcept;
void huge_disown(HeapCore* heap, bool release) noexcept;  // release, or just forget the heap
std::int64_t huge_allocated() noexcept;
void huge_lock() noexcept;
void huge_unlock() noexcept;

// free.cpp
void free_generic(Segment* segment, Page* page, void* p) noexcept;

// heap.cpp
HeapCore* thread_heap_init() noexcept;
void process_init_core() noexcept;
HeapCore* heap_create() noexcept;
HeapCore* heap_create_owned() noexcept;  // a zimalloc::Heap's core, owned by the calling thread
// `heap` ready to allocate on the calling thread: the thread's heap created on first use, an
// orphaned Heap adopted. nullptr (errno ENOMEM) when the OS gives no memory.
HeapCore* heap_prepare(HeapCore* heap) noexcept;
void heap_destroy(HeapCore* heap) noexcept;
void heap_collect(HeapCore* heap, bool force) noexcept;
extern std::atomic<std::int64_t> g_allocated;
extern std::atomic<std::int64_t> g_peak_allocated;

// ---- fast paths ---------------------------------------------------------------------------

// Pops a block of `page` (which has one) for `heap`.
inline void* page_pop([[maybe_unused]] HeapCore* heap, Page* page, Block* block) noexcept {
  page->free_ = decode_next(page, block->next);
  ++page->used_;
  if constexpr (kSecure) {
    block->next = 0;
    mark_allocated(block);
  }
  return block;
}

inline void* heap_malloc(HeapCore* heap, std::size_t size) noexcept {
  if constexpr (kSecure) {
    if (size < kSecureMinSize) size = kSecureMinSize;  // room for the freed tag
  }
  if (size <= kDirectMax) [[likely]] {
    Page* page = heap->direct_[(size + 7) >> 3];
    Block* block = page->free_;
    // (The empty heap's pages have no block, so its shared heartbeat_ is never written.)
    if (block != nullptr && --heap->heartbeat_ != 0) [[likely]]
      return page_pop(heap, page, block);
  }
  return malloc_generic(heap, size);
}

inline void free_fast(void* p) noexcept {
  if (p == nullptr) [[unlikely]]
    return;
  Segment* segment = segment_of(p);
  if constexpr (!kSecure) {
    Page* page = page_of(segment, p);
    // relaxed: see Segment::thread_id_ -- only our own store can make it equal our id.
    if (segment->thread_id_.load(std::memory_order_relaxed) == thread_id() &&
        !page->has_aligned_.load(std::memory_order_relaxed)) [[likely]] {
      auto* block = static_cast<Block*>(p);
      // Back to free_, not local_free_: the next malloc of this size gets the block whose line
      // we just wrote, still in cache (the heartbeat keeps the slow path coming round).
      block->next = encode_next(page, page->free_);
      page->free_ = block;
      if ((--page->used_ == 0) | page->in_full_) [[unlikely]] {
        if (page->used_ == 0) {
          page_retire(segment->heap_, page);
        } else {
          page_unfull(segment->heap_, page);
        }
      }
      return;
    }
    free_generic(segment, page, p);
  } else {
    if (!segment_is_known(p))
      report_error("free of a pointer zimalloc did not allocate (or freed already)", p);
    free_generic(segment, page_of(segment, p), p);
  }
}

}  // namespace zap::zimalloc::detail
