// The allocation API: malloc, calloc, realloc, aligned_alloc, usable_size, free, on the
// calling thread's heap or on a Heap; and their C names.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "internal.hpp"
#include "zap/zimalloc/heap.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zimalloc {
namespace detail {
namespace {

HeapCore* current_heap() noexcept {
  HeapCore* heap = tl_heap;
  if (heap == &g_empty_heap) [[unlikely]] {
    heap = thread_heap_init();
    if (heap == nullptr) errno = ENOMEM;
  }
  return heap;
}

std::size_t block_usable(const void* p) noexcept {
  Segment* segment = segment_of(p);
  Page* page = page_of(segment, p);
  // relaxed: see Page::has_aligned_.
  const auto* block = page->has_aligned_.load(std::memory_order_relaxed)
                          ? (segment->kind_ == PageKind::kHuge
                                 ? reinterpret_cast<const std::uint8_t*>(page->start_)
                                 : reinterpret_cast<const std::uint8_t*>(block_start(page, p)))
                          : static_cast<const std::uint8_t*>(p);
  return page->block_size_ - static_cast<std::size_t>(static_cast<const std::uint8_t*>(p) - block);
}

void* heap_calloc(HeapCore* heap, std::size_t count, std::size_t size) noexcept {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = heap_malloc(heap, total);
  if (p == nullptr) return nullptr;
  // A huge block is fresh from the OS, hence zero already.
  if (segment_of(p)->kind_ != PageKind::kHuge) std::memset(p, 0, total);
  return p;
}

void* heap_aligned_alloc(HeapCore* heap, std::size_t alignment, std::size_t size) noexcept {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  if (alignment <= kMinAlign) {
    // Every block of 16 bytes or more is 16-aligned; the 8-byte class is 8-aligned.
    return heap_malloc(heap, alignment == kMinAlign ? std::max(size, kMinAlign) : size);
  }
  if (alignment > kLargeMax) {
    // No page can hold such a block: it gets a segment of its own (huge.cpp).
    if ((heap = heap_prepare(heap)) == nullptr) return nullptr;
    void* p = huge_alloc(heap, size, alignment);
    if (p == nullptr) errno = ENOMEM;
    return p;
  }
  // The next block of the size class may happen to be aligned already.
  if (size <= kDirectMax) {
    Page* page = heap->direct_[(size + 7) >> 3];
    Block* block = page->free_;
    if (block != nullptr && (reinterpret_cast<std::uintptr_t>(block) & (alignment - 1)) == 0) {
      return page_pop(heap, page, block);
    }
  }
  if (size > kLargeMax - alignment) {
    if ((heap = heap_prepare(heap)) == nullptr) return nullptr;
    void* p = huge_alloc(heap, size, alignment);
    if (p == nullptr) errno = ENOMEM;
    return p;
  }
  // Over-allocate and hand out an interior, aligned address; free rounds it back down.
  void* p = heap_malloc(heap, size + alignment - 1);
  if (p == nullptr) return nullptr;
  const auto aligned = (reinterpret_cast<std::uintptr_t>(p) + alignment - 1) & ~(alignment - 1);
  if (aligned != reinterpret_cast<std::uintptr_t>(p)) {
    Segment* segment = segment_of(p);
    // relaxed: see Page::has_aligned_ (only ever set while the page is in use).
    page_of(segment, p)->has_aligned_.store(true, std::memory_order_relaxed);
  }
  return reinterpret_cast<void*>(aligned);
}

void* heap_realloc(HeapCore* heap, void* p, std::size_t size) noexcept {
  if (p == nullptr) return heap_malloc(heap, size);
  if (size == 0) {
    free_fast(p);
    return nullptr;
  }
  const std::size_t usable = block_usable(p);
  if (size <= usable && size >= usable / 2 &&
      (segment_of(p)->kind_ != PageKind::kHuge || usable - size < (std::size_t{1} << 20))) {
    return p;  // fits, and not so much smaller that a smaller block would be worth a copy
  }
  void* q = heap_malloc(heap, size);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, std::min(size, usable));
  free_fast(p);
  return q;
}

}  // namespace
}  // namespace detail

void* malloc(std::size_t size) noexcept { return detail::heap_malloc(detail::tl_heap, size); }

void* calloc(std::size_t count, std::size_t size) noexcept {
  return detail::heap_calloc(detail::tl_heap, count, size);
}

void* realloc(void* p, std::size_t size) noexcept {
  return detail::heap_realloc(detail::tl_heap, p, size);
}

void free(void* p) noexcept { detail::free_fast(p); }

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  return detail::heap_aligned_alloc(detail::tl_heap, alignment, size);
}

std::size_t usable_size(const void* p) noexcept {
  return p == nullptr ? 0 : detail::block_usable(p);
}

void collect(bool force) noexcept {
  detail::HeapCore* heap = detail::current_heap();
  if (heap != nullptr) detail::heap_collect(heap, force);
}

void set_purge_delay(std::chrono::milliseconds delay) noexcept {
  const auto ms = std::clamp<std::int64_t>(delay.count(), 0, INT32_MAX);
  // relaxed: a tuning value; each heap reads it on its slow paths.
  detail::g_purge_delay_ms.store(static_cast<std::uint32_t>(ms), std::memory_order_relaxed);
}

bool owns(const void* p) noexcept { return p != nullptr && detail::segment_is_known(p); }

Heap::Heap() noexcept : core_(detail::heap_create_owned()) {}

Heap::~Heap() {
  if (core_ != nullptr) detail::heap_destroy(core_);
}

void* Heap::malloc(std::size_t size) noexcept {
  if (core_ == nullptr) return nullptr;
  return detail::heap_malloc(core_, size);
}

void* Heap::calloc(std::size_t count, std::size_t size) noexcept {
  if (core_ == nullptr) return nullptr;
  return detail::heap_calloc(core_, count, size);
}

void* Heap::realloc(void* p, std::size_t size) noexcept {
  if (core_ == nullptr) return nullptr;
  return detail::heap_realloc(core_, p, size);
}

void* Heap::aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  if (core_ == nullptr) return nullptr;
  return detail::heap_aligned_alloc(core_, alignment, size);
}

void Heap::collect(bool force) noexcept {
  if (core_ != nullptr) detail::heap_collect(core_, force);
}

}  // namespace zap::zimalloc

extern "C" {
void* zi_malloc(std::size_t size) noexcept { return zap::zimalloc::malloc(size); }
void* zi_calloc(std::size_t count, std::size_t size) noexcept {
  return zap::zimalloc::calloc(count, size);
}
void* zi_realloc(void* p, std::size_t size) noexcept { return zap::zimalloc::realloc(p, size); }
void zi_free(void* p) noexcept { zap::zimalloc::free(p); }
void* zi_aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  return zap::zimalloc::aligned_alloc(alignment, size);
}
std::size_t zi_usable_size(const void* p) noexcept { return zap::zimalloc::usable_size(p); }
}
