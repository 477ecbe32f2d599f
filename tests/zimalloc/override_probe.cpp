// A plain program (not linked with zimalloc) that override_test runs with and without
// LD_PRELOAD=libzimalloc-override.so: every C and C++ aligned-allocation entry point with
// alignments above 2 MiB must give an aligned, usable, reallocatable, freeable block. Prints
// "override 0|1" (whether zimalloc is the allocator in use), then "ok", or what failed.
#include <dlfcn.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

namespace {

int failures = 0;

void check(bool ok, const char* what, std::size_t alignment, std::size_t size) {
  if (!ok) {
    std::printf("FAILED: %s (alignment %zu, size %zu)\n", what, alignment, size);
    ++failures;
  }
}

// Checks p, writes all of it, and (C blocks) reallocates and frees it.
void exercise(void* p, const char* api, std::size_t alignment, std::size_t size, bool c_block) {
  check(p != nullptr, api, alignment, size);
  if (p == nullptr) return;
  check(reinterpret_cast<std::uintptr_t>(p) % alignment == 0, api, alignment, size);
  check(malloc_usable_size(p) >= size, "malloc_usable_size", alignment, size);
  std::memset(p, 0x3c, size);
  if (!c_block) return;
  auto* q = static_cast<unsigned char*>(std::realloc(p, size * 2));
  check(q != nullptr && q[0] == 0x3c && q[size - 1] == 0x3c, "realloc", alignment, size);
  std::free(q);
}

}  // namespace

int main() {
  using ActiveFn = int (*)();
  auto active = reinterpret_cast<ActiveFn>(dlsym(RTLD_DEFAULT, "zi_override_active"));
  std::printf("override %d\n", active != nullptr ? active() : 0);
  for (std::size_t alignment : {std::size_t{4} << 20, std::size_t{64} << 20}) {
    for (std::size_t size : {std::size_t{100}, std::size_t{3} << 20}) {
      void* p = nullptr;
      check(posix_memalign(&p, alignment, size) == 0, "posix_memalign", alignment, size);
      exercise(p, "posix_memalign", alignment, size, true);
      exercise(memalign(alignment, size), "memalign", alignment, size, true);
      exercise(aligned_alloc(alignment, size), "aligned_alloc", alignment, size, true);
      void* n = ::operator new (size, std::align_val_t{alignment});
      exercise(n, "operator new(align_val_t)", alignment, size, false);
      ::operator delete (n, std::align_val_t{alignment});
      void* a = ::operator new[](size, std::align_val_t{alignment}, std::nothrow);
      exercise(a, "operator new[](align_val_t, nothrow)", alignment, size, false);
      ::operator delete[](a, size, std::align_val_t{alignment});
    }
  }
  if (failures == 0) std::printf("ok\n");
  return failures == 0 ? 0 : 1;
}
