// zimalloc: a mimalloc-style memory allocator -- malloc/free and friends, process statistics.
//
//   #include <zap/zimalloc/zimalloc.hpp>
//   void* p = zap::zimalloc::malloc(100);          // from the calling thread's heap
//   std::size_t n = zap::zimalloc::usable_size(p);  // >= 100 (the size class: 112)
//   p = zap::zimalloc::realloc(p, 4000);
//   zap::zimalloc::free(p);                          // from any thread
//   zap::zimalloc::collect(true);                    // give free memory back to the OS now
//
// Memory comes in 4 MiB segments from the OS (through zuma), bound to the NUMA node of the
// allocating thread; each thread allocates from its own heap, created on its first allocation,
// with no lock and no atomic operation on the fast path. A block may be freed by any thread.
// Blocks are aligned to 16 bytes (8 for requests of at most 8 bytes). Requests over 2 MiB (or
// aligned to more than 2 MiB) are mapped straight from the OS and unmapped when freed. Free pages
// go back to the OS after a short delay (set_purge_delay); when a thread exits, its blocks stay
// valid and its segments are taken over by another thread. Out of memory: nullptr (errno ENOMEM),
// never an exception or abort.
//
// Heaps of their own (destroyed with all their blocks): heap.hpp. STL allocator: allocator.hpp.
// std::pmr::memory_resource: memory_resource.hpp. Replacing malloc/new in a whole program: link
// or LD_PRELOAD libzimalloc-override.so.
//
// Thread-safety: every function is safe from any thread. A block must be freed once, by any one
// thread; freeing a pointer zimalloc did not return is undefined (the secure build, CMake option
// ZAP_ZIMALLOC_SECURE, detects double frees -- by the same or by different threads -- and
// invalid frees, and aborts with a message).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace zap::zimalloc {

// A block of at least `size` bytes (malloc(0) returns a unique pointer), or nullptr.
void* malloc(std::size_t size) noexcept;
// `count * size` zeroed bytes; nullptr if the product overflows.
void* calloc(std::size_t count, std::size_t size) noexcept;
// Resizes in place when the size class allows, else moves. realloc(nullptr, n) is malloc(n);
// realloc(p, 0) frees p and returns nullptr (as glibc). On failure p is left untouched.
void* realloc(void* p, std::size_t size) noexcept;
// Frees a block from any zimalloc allocation function (any heap, any thread). nullptr: no-op.
void free(void* p) noexcept;
// `size` bytes aligned to `alignment` (a power of two; else nullptr, EINVAL). Alignments over
// 2 MiB (up to what the address space holds: 1 GiB is fine) get memory of their own from the OS,
// as huge blocks do, reserving about size + 4 MiB; free, usable_size and realloc work on them as
// on any block (realloc to a larger size keeps only 16-byte alignment, as C's realloc).
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept;
// Bytes usable at p (>= the size asked for); 0 for nullptr.
std::size_t usable_size(const void* p) noexcept;

// Frees what the calling thread's heap can: collects frees from other threads, returns empty
// pages, and with `force` decommits them now (not after the delay), releases empty segments, and
// takes over the segments of exited threads to do the same with them.
void collect(bool force = false) noexcept;

// How long a free page keeps its memory before it is decommitted. The default is long enough that
// a page emptied and refilled in the rhythm of a producer/consumer or a churning workload keeps
// its memory (at 10 ms, re-faulting the pages cost xmalloc and churn 10-50%), and short enough
// that memory after a burst goes back within a fraction of a second.
inline constexpr std::chrono::milliseconds kDefaultPurgeDelay{100};
void set_purge_delay(std::chrono::milliseconds delay) noexcept;

// True if p lies in a segment zimalloc currently has from the OS.
bool owns(const void* p) noexcept;

// Byte counts. allocated: live blocks, rounded up to their size class. committed: memory the OS
// backs (or will on first touch). reserved: address space. The peaks are sampled on slow paths
// (a page or a segment taken), so they may trail the true peak by a page per size class.
struct Stats {
  std::int64_t allocated = 0;
  std::int64_t peak_allocated = 0;
  std::int64_t committed = 0;
  std::int64_t peak_committed = 0;
  std::int64_t reserved = 0;
  std::int64_t peak_reserved = 0;
};

// The whole process: every heap, including blocks of exited threads and huge blocks.
Stats process_stats() noexcept;
// The calling thread's heap (huge blocks excluded: they belong to no heap).
Stats thread_stats() noexcept;

}  // namespace zap::zimalloc

// C names of the same functions (for C code and dlsym).
extern "C" {
void* zi_malloc(std::size_t size) noexcept;
void* zi_calloc(std::size_t count, std::size_t size) noexcept;
void* zi_realloc(void* p, std::size_t size) noexcept;
void zi_free(void* p) noexcept;
void* zi_aligned_alloc(std::size_t alignment, std::size_t size) noexcept;
std::size_t zi_usable_size(const void* p) noexcept;
}
