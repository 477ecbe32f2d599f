#include "adaptive_buffer.hpp"

#include <algorithm>

#include <zap/zimalloc/zimalloc.hpp>

namespace zap::app {

AdaptiveBuffer::AdaptiveBuffer(std::size_t initial, std::size_t largest) noexcept
    : data_(static_cast<std::byte*>(zimalloc::malloc(initial))),
      size_(data_ != nullptr ? initial : 0),
      initial_(initial),
      largest_(std::max(initial, largest)) {}

AdaptiveBuffer::~AdaptiveBuffer() { zimalloc::free(data_); }

void AdaptiveBuffer::adapt(std::size_t n) noexcept {
  if (n >= size_ && size_ < largest_) {
    // The read filled the buffer: more was probably waiting behind it.
    small_reads_ = 0;
    resize(std::min(size_ * kGrowthFactor, largest_));
    return;
  }
  if (size_ <= initial_) return;
  if (n > initial_ / 2) {
    small_reads_ = 0;
  } else if (++small_reads_ >= kSmallReadsBeforeShrink) {
    small_reads_ = 0;
    resize(std::max(size_ / kGrowthFactor, initial_));
  }
}

void AdaptiveBuffer::release_growth() noexcept {
  small_reads_ = 0;
  if (size_ > initial_) resize(initial_);
}

void AdaptiveBuffer::resize(std::size_t size) noexcept {
  // Not realloc: the content is used up, so nothing needs copying.
  auto* fresh = static_cast<std::byte*>(zimalloc::malloc(size));
  if (fresh == nullptr) return;
  zimalloc::free(data_);
  data_ = fresh;
  size_ = size;
}

}  // namespace zap::app
