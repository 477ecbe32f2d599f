// The bytes zap-load sends, chosen so that any mistake an echo server can make shows up:
// the byte at stream offset `o` of connection `c` depends on both, so a dropped, duplicated,
// reordered or crossed-over byte (from another connection or another message) mismatches.
//
//   fill_pattern(connection, offset, buffer, size);              // what to send
//   std::size_t bad = count_mismatches(connection, offset, data, n);   // what came back
//
// With offset = 256 * block + j, a byte is (j * 131) mod 256 -- a ramp that repeats in every
// aligned 256-byte block, so a shift by anything but whole blocks mismatches nearly every byte --
// plus one term per block: a hash of the connection and the block. Two connections' streams
// (whatever their numbers) and a block moved to another place in the stream each differ in all
// but 1 in 256 blocks, so a message of several blocks that crossed over or moved never passes,
// and of one block it passes with odds of 1 in 256 -- which a run of many messages never shows.
// (A sum like `connection * 29` instead repeated every 256 connections: connections i and i + 256
// sent identical bytes, and a server that swapped their replies passed.)
//
// pattern_byte() is the definition. fill_pattern() and count_mismatches() compute the same bytes
// eight at a time: each byte is ramp[j] + the block's term, added eight lanes at once in a 64-bit
// word (SWAR, no carry between lanes). At large messages this, not the network, used to bound
// zap-load's rate.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zap::load {

namespace detail {

// The term every byte of aligned block `block` of `connection`'s stream adds: the top byte of a
// 64-bit mix (splitmix64's finaliser) of both, so every bit of either moves it.
inline std::uint8_t block_term(std::uint32_t connection, std::uint64_t block) noexcept {
  std::uint64_t x =
      block * 0x9e3779b97f4a7c15ull + (std::uint64_t{connection} << 1 | 1) * 0xd6e8feb86659fd93ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint8_t>((x ^ (x >> 31)) >> 56);
}

}  // namespace detail

inline std::uint8_t pattern_byte(std::uint32_t connection, std::uint64_t offset) noexcept {
  return static_cast<std::uint8_t>((offset & 255) * 131 +
                                   detail::block_term(connection, offset >> 8));
}

namespace detail {

// (j * 131) mod 256 for j in [0, 256), then its first 7 bytes again, so that an 8-byte load at
// any j < 256 stays inside.
inline constexpr std::array<std::uint8_t, 256 + 7> kPatternRamp = [] {
  std::array<std::uint8_t, 256 + 7> ramp{};
  for (std::size_t j = 0; j < ramp.size(); ++j)
    ramp[j] = static_cast<std::uint8_t>((j % 256) * 131);
  return ramp;
}();

// Eight byte-wise additions mod 256, with no carry from one byte into the next.
inline std::uint64_t add_bytes(std::uint64_t a, std::uint64_t b) noexcept {
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  return ((a & kLow7) + (b & kLow7)) ^ ((a ^ b) & kHigh);
}

inline std::size_t nonzero_bytes(std::uint64_t x) noexcept {
  std::size_t n = 0;
  for (; x != 0; x >>= 8) n += (x & 0xff) != 0 ? 1 : 0;
  return n;
}

// Calls visit(position in the run, ramp index j, block term, length) for each piece of
// [offset, offset + size) that lies in one aligned 256-byte block.
template <typename Visit>
inline void for_each_block(std::uint32_t connection, std::uint64_t offset, std::size_t size,
                           Visit visit) noexcept {
  std::size_t done = 0;
  while (done < size) {
    const std::uint64_t at = offset + done;
    const auto j = static_cast<std::size_t>(at & 255);
    const std::size_t length = std::min<std::size_t>(256 - j, size - done);
    visit(done, j, block_term(connection, at >> 8), length);
    done += length;
  }
}

}  // namespace detail

inline void fill_pattern(std::uint32_t connection, std::uint64_t offset, std::byte* out,
                         std::size_t size) noexcept {
  detail::for_each_block(
      connection, offset, size,
      [out](std::size_t pos, std::size_t j, std::uint8_t term, std::size_t n) {
        const std::uint64_t terms = term * 0x0101010101010101ull;
        std::size_t k = 0;
        for (; k + 8 <= n; k += 8) {
          std::uint64_t ramp;
          std::memcpy(&ramp, detail::kPatternRamp.data() + j + k, 8);
          const std::uint64_t bytes = detail::add_bytes(ramp, terms);
          std::memcpy(out + pos + k, &bytes, 8);
        }
        for (; k < n; ++k) {
          out[pos + k] = std::byte{static_cast<std::uint8_t>(detail::kPatternRamp[j + k] + term)};
        }
      });
}

inline std::size_t count_mismatches(std::uint32_t connection, std::uint64_t offset,
                                    const std::byte* data, std::size_t size) noexcept {
  std::size_t bad = 0;
  detail::for_each_block(
      connection, offset, size,
      [data, &bad](std::size_t pos, std::size_t j, std::uint8_t term, std::size_t n) {
        const std::uint64_t terms = term * 0x0101010101010101ull;
        std::size_t k = 0;
        for (; k + 8 <= n; k += 8) {
          std::uint64_t ramp;
          std::uint64_t got;
          std::memcpy(&ramp, detail::kPatternRamp.data() + j + k, 8);
          std::memcpy(&got, data + pos + k, 8);
          const std::uint64_t differ = got ^ detail::add_bytes(ramp, terms);
          if (differ != 0) bad += detail::nonzero_bytes(differ);
        }
        for (; k < n; ++k) {
          bad += data[pos + k] !=
                         std::byte{static_cast<std::uint8_t>(detail::kPatternRamp[j + k] + term)}
                     ? 1
                     : 0;
        }
      });
  return bad;
}

}  // namespace zap::load
