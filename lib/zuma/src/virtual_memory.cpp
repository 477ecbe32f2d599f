#include "zap/zuma/virtual_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "memory_util.hpp"
#include "zap/zuma/error.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack it
#endif

namespace zap::zuma {

std::size_t page_size() noexcept {
  static const std::size_t size = [] {
    const long value = sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<std::size_t>(value) : std::size_t{4096};
  }();
  return size;
}

Result<void*> reserve(std::size_t size, std::size_t alignment) noexcept {
  const std::size_t page = page_size();
  if (size == 0 || (alignment & (alignment - 1)) != 0) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  size = detail::round_up(size, page);
  if (size == 0) return std::make_error_code(std::errc::not_enough_memory);
  const std::size_t excess = alignment > page ? alignment - page : 0;
  if (size > SIZE_MAX - excess) return std::make_error_code(std::errc::not_enough_memory);

  constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  void* mapped = mmap(nullptr, size + excess, PROT_NONE, kFlags, -1, 0);
  if (mapped == MAP_FAILED) return detail::errno_code();
  if (excess == 0) return mapped;

  // Trim the unaligned head and the tail of the over-reservation (munmap of part of a private
  // anonymous mapping cannot fail for lack of memory here: it only shrinks one mapping).
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = (start + alignment - 1) & ~(std::uintptr_t{alignment} - 1);
  const std::size_t head = aligned - start;
  const std::size_t tail = excess - head;
  if (head != 0) munmap(mapped, head);
  if (tail != 0) munmap(reinterpret_cast<void*>(aligned + size), tail);
  return reinterpret_cast<void*>(aligned);
}

std::error_code commit(void* ptr, std::size_t size, bool populate) noexcept {
  size = detail::checked_range(ptr, size);
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  if (mprotect(ptr, size, PROT_READ | PROT_WRITE) != 0) return detail::errno_code();
  if (populate && madvise(ptr, size, MADV_POPULATE_WRITE) != 0) {
    // EINVAL: a kernel before 5.14 does not know MADV_POPULATE_WRITE; pages come on first touch.
    if (errno != EINVAL) return detail::errno_code();
  }
  return {};
}

std::error_code decommit(void* ptr, std::size_t size, DecommitMode mode) noexcept {
  size = detail::checked_range(ptr, size);
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  if (mode == DecommitMode::kLazyFree) {
    if (madvise(ptr, size, MADV_FREE) == 0) return {};
    if (errno != EINVAL) return detail::errno_code();
    // EINVAL: no MADV_FREE before Linux 4.5 (or not on this mapping); discard instead.
  }
  if (madvise(ptr, size, MADV_DONTNEED) != 0) return detail::errno_code();
  if (mode == DecommitMode::kDiscardAndProtect && mprotect(ptr, size, PROT_NONE) != 0) {
    return detail::errno_code();
  }
  return {};
}

std::error_code release(void* ptr, std::size_t size) noexcept {
  size = detail::checked_range(ptr, size);
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  if (munmap(ptr, size) != 0) return detail::errno_code();
  return {};
}

std::error_code advise_huge_pages(void* ptr, std::size_t size) noexcept {
  size = detail::checked_range(ptr, size);
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  if (madvise(ptr, size, MADV_HUGEPAGE) != 0) {
    // EINVAL on valid arguments: the kernel is built without transparent huge pages.
    if (errno == EINVAL) return make_error_code(Errc::kHugePagesUnavailable);
    return detail::errno_code();
  }
  return {};
}

}  // namespace zap::zuma
