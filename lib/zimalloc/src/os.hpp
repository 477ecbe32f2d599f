// Internal: the platform layer. Every byte of OS memory zimalloc uses comes through these
// functions, which call zuma's virtual memory API and keep the process counters (reserved,
// committed) that stats() reports.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zap::zimalloc::detail {

// The OS page size (4 KiB usually).
std::size_t os_page_size() noexcept;

// Reserves and commits `size` bytes aligned to `alignment`, bound to NUMA `node` (best effort).
// nullptr when out of memory.
void* os_alloc_aligned(std::size_t size, std::size_t alignment, unsigned node) noexcept;
// Reserves and commits `size` bytes at an address `base` with (base + offset) % alignment == 0
// (alignment: a power of two of at least the page size; offset: a multiple of the page size):
// over-reserves by `alignment` and unmaps the excess head and tail. nullptr when out of memory.
void* os_alloc_offset_aligned(std::size_t size, std::size_t alignment, std::size_t offset,
                              unsigned node) noexcept;
// Unmaps a range from os_alloc_aligned, of which `committed` bytes were still committed.
void os_free(void* ptr, std::size_t size, std::size_t committed) noexcept;
// Gives the memory of a page-aligned range back to the OS; it stays accessible and reads zero.
void os_purge(void* ptr, std::size_t size) noexcept;
// A purged range is in use again: count it as committed.
void os_recommitted(std::size_t size) noexcept;
// Makes a page-aligned range inaccessible (a guard page); it no longer counts as committed.
void os_protect(void* ptr, std::size_t size) noexcept;

// The NUMA node of the calling thread (0 if unknown).
unsigned os_current_node() noexcept;
// Monotonic milliseconds.
std::uint64_t os_now_ms() noexcept;
// Random bits for the secure build's keys (getrandom, or a mix of time and addresses).
std::uint64_t os_random() noexcept;

// Process counters, in bytes.
struct OsCounters {
  std::int64_t reserved;
  std::int64_t committed;
  std::int64_t peak_reserved;
  std::int64_t peak_committed;
};
OsCounters os_counters() noexcept;

}  // namespace zap::zimalloc::detail
