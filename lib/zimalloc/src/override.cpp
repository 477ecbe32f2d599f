// libzimalloc-override.so: replaces the C allocation functions and every operator new/delete of
// a program with zimalloc's, by LD_PRELOAD=libzimalloc-override.so or by linking it first.
//
// Works from the first malloc of the process: zimalloc needs no initialisation that allocates
// (its thread heap pointer is a constant-initialised initial-exec TLS variable, its globals are
// constinit, and it never calls dlsym). fork() is safe: zimalloc registers pthread_atfork
// handlers on the first allocation.
#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "zap/zimalloc/zimalloc.hpp"

namespace zi = zap::zimalloc;

#define ZI_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

std::size_t os_page() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

void* allocate_or_handle(std::size_t size, std::size_t alignment, bool nothrow) {
  for (;;) {
    void* p = alignment <= 16 ? zi::malloc(size) : zi::aligned_alloc(alignment, size);
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try {
        handler();
      } catch (...) {
        return nullptr;
      }
    } else {
      handler();
    }
  }
}

inline void* new_impl(std::size_t size) {
  void* p = zi::malloc(size);
  if (p != nullptr) [[likely]]
    return p;
  return allocate_or_handle(size, 0, false);
}

}  // namespace

// ---- C ----------------------------------------------------------------------------------

ZI_EXPORT void* malloc(std::size_t size) noexcept { return zi::malloc(size); }
ZI_EXPORT void* calloc(std::size_t count, std::size_t size) noexcept {
  return zi::calloc(count, size);
}
ZI_EXPORT void* realloc(void* p, std::size_t size) noexcept { return zi::realloc(p, size); }
ZI_EXPORT void free(void* p) noexcept { zi::free(p); }
ZI_EXPORT void cfree(void* p) noexcept { zi::free(p); }

ZI_EXPORT void* reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return zi::realloc(p, total);
}

ZI_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = zi::aligned_alloc(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

ZI_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  return zi::aligned_alloc(alignment, size);
}

ZI_EXPORT void* memalign(std::size_t alignment, std::size_t size) noexcept {
  // glibc: an alignment that is not a power of two is rounded up to one.
  if ((alignment & (alignment - 1)) != 0)
    alignment = std::size_t{1} << (64 - __builtin_clzll(alignment));
  return zi::aligned_alloc(alignment == 0 ? 1 : alignment, size);
}

ZI_EXPORT void* valloc(std::size_t size) noexcept { return zi::aligned_alloc(os_page(), size); }

ZI_EXPORT void* pvalloc(std::size_t size) noexcept {
  const std::size_t page = os_page();
  const std::size_t rounded = (size + page - 1) & ~(page - 1);
  return zi::aligned_alloc(page, rounded == 0 ? page : rounded);
}

ZI_EXPORT std::size_t malloc_usable_size(void* p) noexcept { return zi::usable_size(p); }

// Lets a test (or a curious user) check that the override is the active allocator.
ZI_EXPORT int zi_override_active() noexcept { return 1; }

// ---- C++ ----------------------------------------------------------------------------------

#define ZI_NEW_EXPORT __attribute__((visibility("default")))

ZI_NEW_EXPORT void* operator new(std::size_t size) { return new_impl(size); }
ZI_NEW_EXPORT void* operator new[](std::size_t size) { return new_impl(size); }
ZI_NEW_EXPORT void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  void* p = zi::malloc(size);
  return p != nullptr ? p : allocate_or_handle(size, 0, true);
}
ZI_NEW_EXPORT void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  void* p = zi::malloc(size);
  return p != nullptr ? p : allocate_or_handle(size, 0, true);
}
ZI_NEW_EXPORT void* operator new(std::size_t size, std::align_val_t al) {
  return allocate_or_handle(size, static_cast<std::size_t>(al), false);
}
ZI_NEW_EXPORT void* operator new[](std::size_t size, std::align_val_t al) {
  return allocate_or_handle(size, static_cast<std::size_t>(al), false);
}
ZI_NEW_EXPORT void* operator new(std::size_t size, std::align_val_t al,
                                 const std::nothrow_t&) noexcept {
  return allocate_or_handle(size, static_cast<std::size_t>(al), true);
}
ZI_NEW_EXPORT void* operator new[](std::size_t size, std::align_val_t al,
                                   const std::nothrow_t&) noexcept {
  return allocate_or_handle(size, static_cast<std::size_t>(al), true);
}

ZI_NEW_EXPORT void operator delete(void* p) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete[](void* p) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete(void* p, std::size_t) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete[](void* p, std::size_t) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete(void* p, std::align_val_t) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept { zi::free(p); }
ZI_NEW_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  zi::free(p);
}
ZI_NEW_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  zi::free(p);
}
ZI_NEW_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  zi::free(p);
}
