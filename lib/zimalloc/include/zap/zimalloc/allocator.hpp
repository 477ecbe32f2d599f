// Allocator<T>: an STL allocator on zimalloc -- the calling thread's heap, or a given Heap.
//
//   std::vector<int, zap::zimalloc::Allocator<int>> v;           // thread heap
//   zap::zimalloc::Heap arena;
//   std::vector<int, zap::zimalloc::Allocator<int>> w{zap::zimalloc::Allocator<int>{&arena}};
//
// Allocators compare equal when they use the same heap (nullptr: the allocating thread's heap;
// any thread can free what it allocates). allocate() throws std::bad_alloc when memory runs out,
// as the standard's Allocator requirements demand; zimalloc itself never throws.
//
// Thread-safety: a thread-heap Allocator is usable from any thread; one with a Heap only on that
// heap's thread (deallocate from anywhere).
#pragma once

#include <cstddef>
#include <new>

#include "zap/zimalloc/heap.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zimalloc {

template <typename T>
class Allocator {
 public:
  using value_type = T;

  constexpr Allocator() noexcept = default;
  constexpr explicit Allocator(Heap* heap) noexcept : heap_(heap) {}
  template <typename U>
  constexpr Allocator(const Allocator<U>& other) noexcept : heap_(other.heap()) {}  // NOLINT

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if constexpr (alignof(T) > 16) {
      p = heap_ != nullptr ? heap_->aligned_alloc(alignof(T), bytes)
                           : zimalloc::aligned_alloc(alignof(T), bytes);
    } else {
      p = heap_ != nullptr ? heap_->malloc(bytes) : zimalloc::malloc(bytes);
    }
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }

  void deallocate(T* p, std::size_t) noexcept { zimalloc::free(p); }

  Heap* heap() const noexcept { return heap_; }

  template <typename U>
  friend bool operator==(const Allocator& a, const Allocator<U>& b) noexcept {
    return a.heap() == b.heap();
  }

 private:
  Heap* heap_ = nullptr;
};

}  // namespace zap::zimalloc
