// The bytes zap-load sends, chosen so that any mistake an echo server can make shows up:
// the byte at stream offset `o` of connection `c` depends on both, so a dropped, duplicated,
// reordered or crossed-over byte (from another connection or another message) mismatches.
//
//   fill_pattern(connection, offset, buffer, size);              // what to send
//   std::size_t bad = count_mismatches(connection, offset, data, n);   // what came back
//
// Each term moves with a different bit range of the offset, so no shift of less than 2^32 bytes
// maps the pattern onto itself; 29 is odd, so connections below 256 apart never collide.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zap::load {

inline std::uint8_t pattern_byte(std::uint32_t connection, std::uint64_t offset) noexcept {
  return static_cast<std::uint8_t>(offset * 131 + (offset >> 8) * 7 + (offset >> 16) * 13 +
                                   (offset >> 24) * 17 + connection * 29u);
}

inline void fill_pattern(std::uint32_t connection, std::uint64_t offset, std::byte* out,
                         std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) out[i] = std::byte{pattern_byte(connection, offset + i)};
}

inline std::size_t count_mismatches(std::uint32_t connection, std::uint64_t offset,
                                    const std::byte* data, std::size_t size) noexcept {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < size; ++i) {
    bad += data[i] != std::byte{pattern_byte(connection, offset + i)} ? 1 : 0;
  }
  return bad;
}

}  // namespace zap::load
