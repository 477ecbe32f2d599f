// Test helper: fills a block with a pattern derived from its address and size, and checks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zap::zimalloc::test {

inline std::uint64_t pattern_word(const void* p, std::size_t size, std::size_t i) {
  std::uint64_t x = reinterpret_cast<std::uintptr_t>(p) * 0x9e3779b97f4a7c15ULL ^ size ^ (i << 32);
  x ^= x >> 29;
  return x * 0xbf58476d1ce4e5b9ULL;
}

inline void fill(void* p, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(p);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const std::uint64_t w = pattern_word(p, size, i);
    std::memcpy(bytes + i, &w, 8);
  }
  for (; i < size; ++i) bytes[i] = static_cast<unsigned char>(pattern_word(p, size, i));
}

// Checks the first `prefix` bytes of a block filled as fill(origin, size) (origin: where it was
// filled, which differs from p after a realloc moved it).
inline bool check(const void* p, const void* origin, std::size_t size, std::size_t prefix) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  std::size_t i = 0;
  for (; i + 8 <= prefix; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes + i, 8);
    if (w != pattern_word(origin, size, i)) return false;
  }
  for (; i < prefix; ++i) {
    if ((i & ~std::size_t{7}) + 8 <= size) {
      const std::uint64_t w = pattern_word(origin, size, i & ~std::size_t{7});
      if (bytes[i] != static_cast<unsigned char>(w >> (8 * (i & 7)))) return false;
    } else if (bytes[i] != static_cast<unsigned char>(pattern_word(origin, size, i))) {
      return false;
    }
  }
  return true;
}

inline bool check(const void* p, std::size_t size) { return check(p, p, size, size); }

}  // namespace zap::zimalloc::test
