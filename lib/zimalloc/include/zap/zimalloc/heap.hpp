// Heap: a private heap -- its own pages and segments -- destroyed with everything in it.
//
//   {
//     zap::zimalloc::Heap arena;                 // created by, and for, this thread
//     auto* node = static_cast<Node*>(arena.malloc(sizeof(Node)));
//     ...                                         // no need to free the blocks one by one
//   }                                             // ~Heap: every block goes back at once
//
// Blocks of a Heap may be freed early with zap::zimalloc::free, from any thread, like any block.
// Destroying the heap frees all its blocks: none may be used (or freed) afterwards, and no other
// thread may be freeing one while it is destroyed.
//
// Thread-safety: a Heap belongs to the thread that created it: only that thread may allocate
// from it, collect it, read its stats() or destroy it (it has no locks).
//
// If that thread exits while the Heap is still alive, the Heap is *orphaned*: its segments are
// abandoned like those of the thread's own heap, so its blocks stay valid, may be used and
// freed from any thread, and are taken over (and their memory returned once freed) by other
// threads; they are no longer freed by ~Heap. The orphaned Heap is empty and belongs to no
// thread: any one thread may destroy it, or allocate from it, which makes that thread its new
// owner (with the rules above, including orphaning at that thread's exit). Orphaning runs in the
// exiting thread's thread-local destructors, after its function returned: touch the Heap from
// another thread only once the owner has been joined (std::thread::join, pthread_join), never on
// a flag the owner set before returning.
#pragma once

#include <cstddef>

#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zimalloc {

namespace detail {
struct HeapCore;
}  // namespace detail

class Heap {
 public:
  // Creates an empty heap. If the OS gives no memory for its bookkeeping, valid() is false and
  // every allocation returns nullptr.
  Heap() noexcept;
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  bool valid() const noexcept { return core_ != nullptr; }

  void* malloc(std::size_t size) noexcept;
  void* calloc(std::size_t count, std::size_t size) noexcept;
  // Moves (or keeps) p into this heap; p may come from any heap. realloc(p, 0): frees, nullptr.
  void* realloc(void* p, std::size_t size) noexcept;
  void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept;

  // As zimalloc::collect, for this heap (force does not take over exited threads' segments).
  void collect(bool force = false) noexcept;
  Stats stats() const noexcept;

 private:
  detail::HeapCore* core_;
};

}  // namespace zap::zimalloc
