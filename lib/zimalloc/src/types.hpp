// Internal: the shared types of zimalloc -- constants, size classes, Block, Page, Segment,
// PageQueue, HeapCore -- with every field documented. Mirrors mimalloc's include/mimalloc/types.h.
//
// Structure (bottom-up):
//   OS (os.cpp, through zuma)  ->  Segment: 4 MiB, aligned to 4 MiB, so segment_of(p) is a mask
//   (of p - 1: see internal.hpp).
//   A segment holds one kind of page: 64 small pages of 64 KiB, 8 medium pages of 512 KiB, one
//   large page, or (huge) one page of any size made for one block. Its header (this Segment
//   struct, with the Page descriptors) sits at the start of the segment, inside the first page.
//   Page: blocks of one size class. Its free lists are sharded three ways:
//     free_        the blocks allocation pops (owner thread only, no atomics);
//     local_free_  blocks the owner freed (owner only, no atomics), moved to free_ when it is
//     empty; thread_free_ blocks other threads freed (atomic push), taken by the owner in one
//     exchange.
//   HeapCore: one per thread (created lazily) or per zimalloc::Heap; it owns segments, and keeps
//   the pages with free blocks of each size class in a PageQueue.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zap::zimalloc::detail {

// ---- sizes --------------------------------------------------------------------------------

inline constexpr std::size_t kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;  // 4 MiB
inline constexpr std::uintptr_t kSegmentMask = kSegmentSize - 1;
inline constexpr std::size_t kSmallPageShift = 16;                                   // 64 KiB
inline constexpr std::size_t kMediumPageShift = 19;                                  // 512 KiB
inline constexpr std::size_t kMaxPagesPerSegment = kSegmentSize >> kSmallPageShift;  // 64

// Largest block of each page kind: a page holds at least 8 blocks (small, medium); a large page
// at least one; anything bigger is huge (a segment of its own, straight from the OS).
inline constexpr std::size_t kSmallMax = std::size_t{8} << 10;
inline constexpr std::size_t kMediumMax = std::size_t{64} << 10;
inline constexpr std::size_t kLargeMax = kSegmentSize / 2;

// Largest huge request and largest alignment (64 TiB: more than any address space gives; the
// bound only keeps the size arithmetic from overflowing).
inline constexpr std::size_t kHugeMax = std::size_t{1} << 46;

// Every block is aligned to kMinAlign (alignof(max_align_t)), except the 8-byte class.
inline constexpr std::size_t kMinAlign = 16;
inline constexpr std::size_t kBlockStartAlign = 64;  // first block of a page: a cache line

// Size classes ("bins"): 8, then multiples of 16 up to 128 (exact), then 4 classes per power of
// two (160, 192, 224, 256, 320, ...) up to kLargeMax. Internal waste: at most 15 bytes below 128;
// above, the class is at most 25% over the request and 12.5% over on average.
inline constexpr std::size_t kBinCount = 65;        // bins 0..64; bin 64 is 2 MiB
inline constexpr std::size_t kBinFull = kBinCount;  // queue index of pages that are full
inline constexpr std::size_t kQueueCount = kBinCount + 1;
inline constexpr std::size_t kBinHuge = kQueueCount;  // bin_ of a huge page (no queue)

// Sizes up to kDirectMax find their page in one load: HeapCore::direct_[(size + 7) / 8].
inline constexpr std::size_t kDirectMax = 1024;
inline constexpr std::size_t kDirectSlots = kDirectMax / 8 + 1;

constexpr std::size_t bin_of(std::size_t size) noexcept {
  if (size <= 8) return 0;
  if (size <= 128) return (size + 15) >> 4;
  const std::size_t w = size - 1;
  const std::size_t b = 63 - static_cast<std::size_t>(__builtin_clzll(w));  // >= 7
  return 9 + (b - 7) * 4 + ((w >> (b - 2)) & 3);
}

constexpr std::size_t bin_block_size(std::size_t bin) noexcept {
  if (bin == 0) return 8;
  if (bin <= 8) return bin * 16;
  const std::size_t k = bin - 9;
  return (5 + k % 4) << (7 + k / 4 - 2);
}

static_assert(bin_of(kLargeMax) == kBinCount - 1 && bin_block_size(kBinCount - 1) == kLargeMax);

// ---- blocks, pages, segments ----------------------------------------------------------------

// A free block: its first word links to the next free block (encoded in secure builds). In
// secure builds a block is at least 16 bytes and its second word holds, while it is free, a
// keyed tag of its address (internal.hpp, mark_freed): every free -- by the owner or by another
// thread -- sets it with an atomic exchange, so a second free of the block sees it, whichever
// threads the two frees come from.
struct Block {
  std::uintptr_t next;
};

enum class PageKind : std::uint8_t { kSmall, kMedium, kLarge, kHuge };

// State in the two low bits of Page::thread_free_ (blocks are 8-aligned, so the bits are free).
enum ThreadFreeState : std::uintptr_t {
  kTfNormal = 0,    // page in its bin queue (or abandoned): frees just push
  kTfInFull = 1,    // page in the full queue: the first remote free must notify the owner
  kTfNotified = 2,  // the owner was notified (Segment::notify_mask_) and will move the page back
};
inline constexpr std::uintptr_t kTfStateMask = 3;
// The top 16 bits of Page::thread_free_ count the blocks in the list (saturating at
// kTfCountMax), so that the owner takes the list without walking it: every link of a list that
// another core just wrote is a cache miss, and the walk made them one after the other. User
// addresses on x86-64 and arm64 fit in 48 bits (we never map above them).
inline constexpr unsigned kTfCountShift = 48;
inline constexpr std::uintptr_t kTfCountMax = 0xFFFF;
inline constexpr std::uintptr_t kTfPointerMask =
    ((std::uintptr_t{1} << kTfCountShift) - 1) & ~kTfStateMask;
static_assert(sizeof(std::uintptr_t) == 8, "Page::thread_free_ packs a count above the pointer");

struct Segment;

// A page: a run of blocks of one size. Lives in its segment's header (Segment::pages_).
// Cache-line aligned: the fields of the fast paths (up to thread_free_) share one line.
struct alignas(64) Page {
  // -- fields of the allocation and free fast paths (owner thread only, unless said) --
  Block* free_ = nullptr;  // blocks to allocate next; popped by malloc
  // Blocks waiting for free_ to run dry: other threads' frees once collected, and the owner's
  // frees in secure builds (elsewhere the owner frees straight into free_, see free_fast).
  Block* local_free_ = nullptr;
  std::uint32_t used_ = 0;  // blocks handed out and not back in free_/local_free_ (blocks in
                            // thread_free_ still count: the owner subtracts them on collect)
  bool in_full_ = false;    // in the heap's full queue (then frees take the slow path)
  // Some block was handed out at an interior (aligned) address: free must round down. Set by the
  // owner, read by any freeing thread -> relaxed atomic: it is only ever set while the page is
  // in use, and the freer of such a block saw it set through the block's own hand-off.
  std::atomic<bool> has_aligned_{false};
  std::uint8_t bin_ = 0;           // size class; kBinHuge for a huge page
  std::uint8_t index_ = 0;         // index in Segment::pages_
  std::size_t block_size_ = 0;     // bytes per block (a huge page: the whole usable area)
  std::uint8_t* start_ = nullptr;  // first block
  // Blocks freed by other threads, pushed with a CAS; the low two bits hold a ThreadFreeState,
  // the top 16 the number of blocks in the list (kTfCountShift).
  std::atomic<std::uintptr_t> thread_free_{0};
  std::uint32_t capacity_ = 0;     // blocks carved out so far (the free list is built lazily)
  std::uint32_t reserved_ = 0;     // blocks that fit in the page
  bool in_use_ = false;            // handed to a heap (false: a free page of its segment)
  bool is_dirty_ = false;          // free, but its memory is still committed (awaiting purge)
  std::uint64_t purge_at_ms_ = 0;  // when a free dirty page is decommitted (monotonic ms)
  Page* next_ = nullptr;           // links in a heap's PageQueue
  Page* prev_ = nullptr;
};

static_assert(offsetof(Page, thread_free_) + sizeof(std::uintptr_t) <= 64,
              "the fast-path fields of a Page fit in its first cache line");

// Which list of its heap a segment is on (besides the list of all its segments).
enum class SegmentList : std::uint8_t { kNone, kFreePages, kEmpty, kAbandoned };

// A segment: kSegmentSize bytes aligned to kSegmentSize (a huge one may be longer).
struct Segment {
  std::uintptr_t cookie_ = 0;  // address ^ process key: checks a pointer is ours (secure builds)
  // Id of the owning thread (0: abandoned, or huge). Written by the owner (init, abandon) or by
  // a reclaiming thread under the abandoned-list mutex; read by every free. relaxed: a thread
  // only needs to know whether the value is *its own* id, which only its own stores can make so.
  std::atomic<std::uintptr_t> thread_id_{0};
  struct HeapCore* heap_ = nullptr;  // owning heap (nullptr when abandoned); owner only
  PageKind kind_ = PageKind::kSmall;
  SegmentList list_ = SegmentList::kNone;
  std::uint8_t page_shift_ = 0;  // page index = (p - segment) >> page_shift_ (63 for huge)
  std::uint8_t page_count_ = 0;
  std::uint32_t used_pages_ = 0;  // pages handed to the heap
  unsigned numa_node_ = 0;        // node the memory was bound to (or the thread's node)
  std::size_t size_ = 0;          // bytes reserved (kSegmentSize, or more for huge)
  std::size_t uncommitted_ = 0;   // bytes of it purged or guard pages (not backed by the OS)
  std::uint64_t expire_ms_ = 0;   // on the empty list: when the segment goes back to the OS
  Segment* next_ = nullptr;       // list of all segments of the heap
  Segment* prev_ = nullptr;
  Segment* list_next_ = nullptr;  // the list named by list_ (free-pages, empty, abandoned, huge)
  Segment* list_prev_ = nullptr;
  // Bit i: page i is full and a remote free into it happened; set by the freeing thread, taken
  // by the owner with exchange. Its own cache line: remote threads write it.
  alignas(64) std::atomic<std::uint64_t> notify_mask_{0};
  alignas(64) Page pages_[kMaxPagesPerSegment];
};

// A doubly linked list of the pages of one size class (or of the full pages).
struct PageQueue {
  Page* first_ = nullptr;       // the page allocation tries first (direct_ points at it)
  Page* last_ = nullptr;        // pages that got free blocks back while full are appended here
  std::size_t block_size_ = 0;  // the size class (informational; each page has its own copy)
};

// A list of segments through Segment::list_next_/list_prev_.
struct SegmentQueue {
  Segment* first_ = nullptr;  // segments are taken from the front
  Segment* last_ = nullptr;   // and pushed at the back
};

// The page every direct_ slot of a new heap points to: no free block, so malloc's fast path
// falls through to the generic path, which sets the heap up.
extern Page g_empty_page;

inline constexpr std::uint32_t kHeartbeat = 1024;

// A heap: the pages and segments of one thread (or of one zimalloc::Heap). Owner thread only.
struct HeapCore {
  // direct_[(size+7)/8] for size <= kDirectMax: the first page of that size's bin (or
  // &g_empty_page). The malloc fast path is: page = direct_[..]; pop page->free_.
  Page* direct_[kDirectSlots];
  // Fast-path mallocs left before one takes the slow path anyway (malloc_generic resets it):
  // owner frees go straight back to free_, so free_ may never run dry, and the slow path's
  // chores (collecting other threads' frees, ticks) must still come round.
  std::uint32_t heartbeat_ = kHeartbeat;
  PageQueue queues_[kQueueCount];  // per bin, and kBinFull for full pages
  std::uintptr_t thread_id_ = 0;   // owner; 0 for the empty heap
  // Bytes in blocks handed out (huge ones excluded), as counted (pages' used_ * block size) at
  // the last tick or stats() call: the fast paths keep no counter.
  std::int64_t allocated_ = 0;
  std::int64_t peak_allocated_ = 0;    // the largest allocated_ counted
  std::int64_t peak_committed_ = 0;    // sampled on ticks, new segments and stats()
  std::int64_t peak_reserved_ = 0;     // likewise
  std::int64_t synced_allocated_ = 0;  // part of allocated_ already added to process totals
  std::size_t full_pages_ = 0;         // pages in queues_[kBinFull]
  std::uint64_t next_tick_ms_ = 0;     // next time retired pages / purges are looked at
  std::uint64_t now_ms_ = 0;           // the clock at the last tick (cheap "now" for deadlines)
  unsigned numa_node_ = 0;             // node of the owner thread when the heap was made
  bool is_thread_default_ = false;     // the thread's own heap (abandoned at thread exit)
  // A zimalloc::Heap whose thread exited while it was alive: its segments were abandoned (its
  // blocks live on in them), it has no pages, and the next thread that allocates from it adopts
  // it (heap_adopt). Read and written only by the thread that uses the Heap.
  bool orphaned_ = false;
  // Ownership of zimalloc::Heaps by threads, so that a thread's exit can orphan them: a thread's
  // default heap lists the Heaps created (or adopted) by its thread; each of those points back.
  // Owner thread only.
  HeapCore* owner_ = nullptr;        // a Heap's: its thread's default heap (nullptr: orphaned)
  HeapCore* owned_first_ = nullptr;  // a default heap's: the first Heap of its thread
  HeapCore* owned_next_ = nullptr;   // a Heap's links in its owner's list
  HeapCore* owned_prev_ = nullptr;
  std::size_t retired_min_ = kBinCount;  // bins that may hold an empty retired page
  std::size_t retired_max_ = 0;
  Segment* segments_ = nullptr;         // all segments (Segment::next_/prev_)
  SegmentQueue free_page_segments_[2];  // small/medium segments with a free page
  SegmentQueue empty_segments_;         // segments with no page in use, kept until expire_ms_
  HeapCore* pool_next_ = nullptr;       // link in the free pool of heap structs
  HeapCore* registry_next_ = nullptr;   // links in the registry of live heaps (for fork)
  HeapCore* registry_prev_ = nullptr;

  constexpr HeapCore() noexcept {
    for (Page*& slot : direct_) slot = &g_empty_page;
  }
};

}  // namespace zap::zimalloc::detail
