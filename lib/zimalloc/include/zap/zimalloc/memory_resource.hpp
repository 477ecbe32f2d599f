// MemoryResource: a std::pmr::memory_resource on zimalloc (thread heap, or a given Heap).
//
//   std::pmr::vector<std::pmr::string> names{zap::zimalloc::memory_resource()};
//   zap::zimalloc::Heap arena;
//   zap::zimalloc::MemoryResource arena_resource{&arena};
//   std::pmr::unordered_map<int, int> map{&arena_resource};
//
// do_allocate throws std::bad_alloc when memory runs out (the memory_resource contract). Two
// MemoryResources are equal when they use the same heap: either can free the other's memory.
//
// Thread-safety: memory_resource() (the thread heap) is usable from any thread; a MemoryResource
// with a Heap allocates only on that heap's thread and deallocates anywhere.
#pragma once

#include <cstddef>
#include <memory_resource>

#include "zap/zimalloc/heap.hpp"

namespace zap::zimalloc {

class MemoryResource : public std::pmr::memory_resource {
 public:
  constexpr MemoryResource() noexcept = default;
  constexpr explicit MemoryResource(Heap* heap) noexcept : heap_(heap) {}

  Heap* heap() const noexcept { return heap_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override;

  Heap* heap_ = nullptr;
};

// The process-wide resource on each calling thread's heap.
MemoryResource* memory_resource() noexcept;

}  // namespace zap::zimalloc
