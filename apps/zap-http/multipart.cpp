#include "multipart.hpp"

#include <sys/random.h>

#include <chrono>
#include <cstring>

#include "head_writer.hpp"

namespace zap::http {

namespace {

// 64 bits the kernel draws (no syscall is spared here: several ranges in one request are rare),
// so that no boundary says anything about the next.
std::uint64_t random_bits() {
  std::uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof bits)) {
    return bits;
  }
  // Too early in boot for the pool: the clock and a counter, then. A boundary has to be absent
  // from the files; this one is still never the same twice.
  thread_local std::uint64_t counter = 0;
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
             0x9e3779b97f4a7c15ULL +
         ++counter;
}

std::size_t decimal_digits(std::uint64_t value) {
  std::size_t n = 1;
  while (value >= 10) {
    value /= 10;
    ++n;
  }
  return n;
}

}  // namespace

void new_boundary(MultipartLabel& label) {
  std::memcpy(label.content_type, kMultipartTypePrefix.data(), kMultipartTypePrefix.size());
  char* digits = label.content_type + kMultipartTypePrefix.size();
  std::uint64_t bits = random_bits();
  for (std::size_t i = 0; i < kBoundarySize; ++i) {  // 64 bits give 19 digits; the 20th: 0-1
    digits[i] = static_cast<char>('0' + bits % 10);
    bits /= 10;
  }
}

std::size_t write_part_head(std::string_view boundary, std::size_t index, std::string_view type,
                            const ByteRange& range, std::uint64_t size, char* out,
                            std::size_t capacity) {
  HeadWriter w(out, capacity);
  // The CRLF before a delimiter belongs to it (RFC 2046 5.1.1); the first needs none.
  w << (index == 0 ? "--" : "\r\n--") << boundary << "\r\nContent-Type: " << type
    << "\r\nContent-Range: bytes " << range.first << "-" << range.last << "/" << size << "\r\n\r\n";
  return w.size();
}

std::size_t write_multipart_end(std::string_view boundary, char* out, std::size_t capacity) {
  HeadWriter w(out, capacity);
  w << "\r\n--" << boundary << "--\r\n";
  return w.size();
}

std::uint64_t multipart_length(std::string_view type, const ByteRanges& ranges,
                               std::uint64_t size) {
  const std::size_t boundary_size = kBoundarySize;
  std::uint64_t total = 4 + boundary_size + 4;  // the end: CRLF "--" boundary "--" CRLF
  for (std::size_t i = 0; i < ranges.count; ++i) {
    const ByteRange& r = ranges.items[i];
    total += (i == 0 ? 2 : 4) + boundary_size + std::strlen("\r\nContent-Type: ") + type.size() +
             std::strlen("\r\nContent-Range: bytes ") + decimal_digits(r.first) + 1 +
             decimal_digits(r.last) + 1 + decimal_digits(size) + 4 + r.length();
  }
  return total;
}

}  // namespace zap::http
