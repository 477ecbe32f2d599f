// MemoryResource: std::pmr on zimalloc.
#include "zap/zimalloc/memory_resource.hpp"

#include <new>

#include "zap/zimalloc/zimalloc.hpp"

namespace zap::zimalloc {

void* MemoryResource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = nullptr;
  if (alignment <= 16) {
    p = heap_ != nullptr ? heap_->malloc(bytes) : zimalloc::malloc(bytes);
  } else {
    p = heap_ != nullptr ? heap_->aligned_alloc(alignment, bytes)
                         : zimalloc::aligned_alloc(alignment, bytes);
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void MemoryResource::do_deallocate(void* p, std::size_t, std::size_t) { zimalloc::free(p); }

bool MemoryResource::do_is_equal(const std::pmr::memory_resource& other) const noexcept {
  const auto* resource = dynamic_cast<const MemoryResource*>(&other);
  return resource != nullptr && resource->heap_ == heap_;
}

MemoryResource* memory_resource() noexcept {
  static MemoryResource resource;
  return &resource;
}

}  // namespace zap::zimalloc
