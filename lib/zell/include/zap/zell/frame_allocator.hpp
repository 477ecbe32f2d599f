// FrameAllocator: where coroutine frames (and spawned-task records) come from.
//
// Every Task<T> frame is allocated through the promise's operator new, which calls
// zap::zell::allocate_frame(); a spawned task's record (its join state) comes from the same
// place. The default is zimalloc (zap::zimalloc::malloc/free): the allocating thread's own heap,
// no lock and no atomic on the fast path; a frame freed on another thread goes back to the heap
// that made it through zimalloc's thread-free lists. Install another allocator (an arena, a
// counting one in tests) with set_frame_allocator() before the first frame is allocated, and keep
// it alive for the process:
//
//   struct Counting final : zap::zell::FrameAllocator {
//     void* allocate(std::size_t n) override { ++count; return ::operator new(n); }
//     void deallocate(void* p, std::size_t n) noexcept override { ::operator delete(p, n); }
//     std::atomic<int> count{0};
//   };
//   static Counting counting;
//   zap::zell::set_frame_allocator(&counting);
//
// Thread-safety: allocate_frame/deallocate_frame may be called from any thread. An installed
// FrameAllocator must be thread-safe. set_frame_allocator() must not race with frame allocation
// and frames must be freed by the allocator that made them (so: set it once, at start-up).
#pragma once

#include <cstddef>

namespace zap::zell {

class FrameAllocator {
 public:
  // Returns at least `size` bytes aligned to __STDCPP_DEFAULT_NEW_ALIGNMENT__; throws
  // std::bad_alloc on failure (coroutine frame allocation has no other way to fail).
  virtual void* allocate(std::size_t size) = 0;
  // `size` is the size passed to allocate().
  virtual void deallocate(void* block, std::size_t size) noexcept = 0;

 protected:
  ~FrameAllocator() = default;
};

// nullptr restores the default (zimalloc).
void set_frame_allocator(FrameAllocator* allocator) noexcept;
// The installed allocator; nullptr when frames come from zimalloc.
FrameAllocator* frame_allocator() noexcept;

void* allocate_frame(std::size_t size);
void deallocate_frame(void* block, std::size_t size) noexcept;

}  // namespace zap::zell
