// Virtual memory: reserve address space, commit and decommit pages in it, release it; page and
// huge-page sizes; transparent and explicit huge pages; NUMA placement of a range (mbind).
//
//   auto base = zap::zuma::reserve(64 << 20, 2 << 20);   // 64 MiB of PROT_NONE, 2 MiB aligned
//   if (!base) return base.error();
//   if (auto ec = zap::zuma::commit(*base, 1 << 20)) return ec;       // first MiB read/write
//   zap::zuma::bind_to_node(*base, 1 << 20, 0);                       // best effort; see below
//   ...
//   zap::zuma::decommit(*base, 1 << 20);                  // memory back to the OS, reads zero
//   zap::zuma::release(*base, 64 << 20);
//
// Every function returns a std::error_code (empty on success) or a Result, and never throws or
// aborts. Sizes are rounded up to the page size; pointers given to commit/decommit/release/
// advise/bind must be page-aligned (else std::errc::invalid_argument). OS failures keep their
// errno (system_category): ENOMEM when address space or memory runs out, EINVAL for a range
// that is not mapped the way the call needs.
//
// NUMA errors (bind_to_node, node_of_address), so that a caller can run without NUMA placement:
//   Errc::kNumaUnavailable  the kernel has no NUMA policy support (ENOSYS) or the sandbox forbids
//                           it (EPERM, e.g. a seccomp profile) -- treat as "no NUMA here"
//   Errc::kNoSuchNode       the node does not exist, has no memory, or is not allowed (EINVAL)
// Huge-page errors: Errc::kHugePagesUnavailable (THP disabled or not built in).
//
// Thread-safety: the functions keep no state of their own (page_size/huge_page_size cache a value
// read once, thread-safely); concurrent calls on disjoint ranges are safe. Calls on the same range
// from several threads need the caller's synchronisation, as with mmap itself.
#pragma once

#include <cstddef>
#include <system_error>

#include "zap/zuma/result.hpp"

namespace zap::zuma {

// The base page size (sysconf(_SC_PAGESIZE)), e.g. 4096.
std::size_t page_size() noexcept;
// The default huge page size (Hugepagesize in /proc/meminfo), e.g. 2 MiB; 0 when the kernel
// reports none (no hugetlb support).
std::size_t huge_page_size() noexcept;

// Reserves `size` bytes of address space, inaccessible (PROT_NONE) and backed by nothing until
// committed. `alignment` (0 or a power of two; at most page size means page-aligned) is met by
// over-reserving and unmapping the excess. Errors: invalid_argument (size 0, bad alignment),
// ENOMEM.
Result<void*> reserve(std::size_t size, std::size_t alignment = 0) noexcept;

// Makes [ptr, ptr+size) readable and writable (mprotect). Pages are materialised on first touch,
// or now with `populate` (MADV_POPULATE_WRITE, Linux 5.14+; on an older kernel populate is
// silently skipped; ENOMEM if memory cannot be provided).
std::error_code commit(void* ptr, std::size_t size, bool populate = false) noexcept;

enum class DecommitMode {
  // MADV_DONTNEED: the memory goes back to the OS now; the range stays accessible and reads
  // zero on the next touch (it is still committed, in the sense of commit()).
  kDiscard,
  // kDiscard, then PROT_NONE: touching the range faults until commit() is called again.
  kDiscardAndProtect,
  // MADV_FREE: the OS takes the memory only under pressure (cheaper when it is reused soon); the
  // range stays accessible, and its contents are undefined (old data or zero) until written.
  // Falls back to kDiscard on a kernel without MADV_FREE.
  kLazyFree,
};

// Gives the physical memory of [ptr, ptr+size) back to the OS, keeping the address range.
std::error_code decommit(void* ptr, std::size_t size,
                         DecommitMode mode = DecommitMode::kDiscard) noexcept;

// Unmaps [ptr, ptr+size): the range returned by reserve/allocate_huge, or any page-aligned part.
std::error_code release(void* ptr, std::size_t size) noexcept;

// Asks for transparent huge pages on the range (MADV_HUGEPAGE). Useful on 2 MiB-aligned ranges.
// Errors: Errc::kHugePagesUnavailable if THP is not available in this kernel.
std::error_code advise_huge_pages(void* ptr, std::size_t size) noexcept;

// Memory from allocate_huge: read/write, zeroed; free with release(ptr, size).
struct HugeAllocation {
  void* ptr = nullptr;
  std::size_t size = 0;        // bytes mapped: the request rounded up to the page size used
  bool explicit_huge = false;  // true: MAP_HUGETLB pages; false: normal pages (fallback)
  // Why MAP_HUGETLB was not used (empty if it was): usually ENOMEM, the hugetlb pool has no free
  // page (none reserved in /proc/sys/vm/nr_hugepages); Errc::kHugePagesUnavailable if the kernel
  // reports no huge page size at all.
  std::error_code fallback_reason;
};

// Maps `size` bytes of explicit huge pages (MAP_HUGETLB, default huge page size). When the
// hugetlb pool cannot provide them (none reserved, no support), falls back to normal pages,
// aligned to the huge page size and advised for THP, and says so in the result. Errors (no
// memory at all): ENOMEM, invalid_argument for size 0.
Result<HugeAllocation> allocate_huge(std::size_t size) noexcept;

// Sets the NUMA policy of [ptr, ptr+size) to "allocate only on `node`" (mbind MPOL_BIND). Pages
// not yet touched are placed on first touch; with `move_existing` pages already present are
// migrated (MPOL_MF_MOVE). Errors: see the NUMA errors above; EFAULT for an unmapped range.
std::error_code bind_to_node(void* ptr, std::size_t size, unsigned node,
                             bool move_existing = false) noexcept;

// The node on which the page holding `address` is allocated (get_mempolicy MPOL_F_NODE |
// MPOL_F_ADDR). The range must be committed; the kernel faults the page in if it is not yet.
Result<unsigned> node_of_address(const void* address) noexcept;

}  // namespace zap::zuma
