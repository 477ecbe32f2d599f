// The default frame allocator is zimalloc: each thread allocates from its own zimalloc heap (no
// lock, no atomic on the fast path), and a frame freed on another thread than the one that
// allocated it goes back to its page's thread-free list (one CAS), which the owning heap collects
// when it next needs a block of that size. That is what the per-thread frame cache that used to
// sit here did by hand; on top of zimalloc it only added a header and a second free list, and
// measured no faster (bench/zell: spawn_join, skynet, fib), so it is gone.
#include "zap/zell/frame_allocator.hpp"

#include <atomic>
#include <new>

#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zell {
namespace {

// zimalloc aligns blocks of over 8 bytes to 16; frames need __STDCPP_DEFAULT_NEW_ALIGNMENT__.
constexpr std::size_t kMinFrameBytes = 16;
static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ <= 16);

// Relaxed: installed once at start-up, before any frame exists (see the header); the thread that
// later allocates frames was started after, or synchronized with, the installing thread.
std::atomic<FrameAllocator*> g_allocator{nullptr};

}  // namespace

void set_frame_allocator(FrameAllocator* allocator) noexcept {
  g_allocator.store(allocator, std::memory_order_relaxed);  // relaxed: see g_allocator
}

FrameAllocator* frame_allocator() noexcept {
  return g_allocator.load(std::memory_order_relaxed);  // relaxed: see g_allocator
}

void* allocate_frame(std::size_t size) {
  if (size == 0) size = 1;
  // Relaxed: see g_allocator.
  if (FrameAllocator* custom = g_allocator.load(std::memory_order_relaxed)) {
    return custom->allocate(size);
  }
  void* frame = zimalloc::malloc(size < kMinFrameBytes ? kMinFrameBytes : size);
  if (frame == nullptr) throw std::bad_alloc();
  return frame;
}

void deallocate_frame(void* block, std::size_t size) noexcept {
  if (block == nullptr) return;
  if (size == 0) size = 1;
  // Relaxed: see g_allocator.
  if (FrameAllocator* custom = g_allocator.load(std::memory_order_relaxed)) {
    return custom->deallocate(block, size);
  }
  zimalloc::free(block);  // from any thread: zimalloc takes cross-thread frees
}

}  // namespace zap::zell
