// HeadWriter: appends text and decimal numbers to a fixed buffer, for the heads zap-http writes
// (response heads, multipart part heads) without allocating. An append that does not fit marks
// the whole write as failed instead of writing past the end: size() is then 0.
//
//   HeadWriter w(out, capacity);
//   w << "Content-Length: " << length << "\r\n";
//   if (w.size() == 0) ... did not fit ...
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace zap::http {

class HeadWriter {
 public:
  HeadWriter(char* out, std::size_t capacity) : out_(out), capacity_(capacity) {}

  HeadWriter& operator<<(std::string_view text) {
    if (text.empty()) return *this;  // (its data() may be null: no memcpy from it)
    if (overflow_ || capacity_ - size_ < text.size()) {
      overflow_ = true;
      return *this;
    }
    std::memcpy(out_ + size_, text.data(), text.size());
    size_ += text.size();
    return *this;
  }
  HeadWriter& operator<<(std::uint64_t value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    return *this << std::string_view(digits, static_cast<std::size_t>(result.ptr - digits));
  }
  std::size_t size() const { return overflow_ ? 0 : size_; }

 private:
  char* out_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  bool overflow_ = false;
};

}  // namespace zap::http
