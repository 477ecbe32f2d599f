// Internal: page arithmetic and errno conversion shared by the virtual-memory sources.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "zap/zuma/virtual_memory.hpp"

namespace zap::zuma::detail {

inline std::error_code errno_code() noexcept { return {errno, std::system_category()}; }

// Rounds up to a multiple of `unit` (a power of two); 0 if that overflows.
inline std::size_t round_up(std::size_t size, std::size_t unit) noexcept {
  if (size > SIZE_MAX - (unit - 1)) return 0;
  return (size + unit - 1) & ~(unit - 1);
}

inline bool is_page_aligned(const void* ptr) noexcept {
  return (reinterpret_cast<std::uintptr_t>(ptr) & (page_size() - 1)) == 0;
}

// Checks a (ptr, size) argument pair and rounds size up to pages; 0 means invalid.
inline std::size_t checked_range(const void* ptr, std::size_t size) noexcept {
  if (ptr == nullptr || size == 0 || !is_page_aligned(ptr)) return 0;
  return round_up(size, page_size());
}

}  // namespace zap::zuma::detail
