#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace zap::load {

unsigned LatencyHistogram::bucket_of(std::uint64_t value) noexcept {
  if (value < kSubBuckets) return static_cast<unsigned>(value);
  const unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(value));  // >= kSubBits
  const unsigned sub = static_cast<unsigned>(value >> (exponent - kSubBits)) & (kSubBuckets - 1);
  return (exponent - kSubBits + 1) * kSubBuckets + sub;
}

std::uint64_t LatencyHistogram::bucket_floor(unsigned bucket) noexcept {
  if (bucket < kSubBuckets) return bucket;
  const unsigned exponent = bucket / kSubBuckets + kSubBits - 1;
  const std::uint64_t sub = bucket % kSubBuckets;
  return (std::uint64_t{1} << exponent) + (sub << (exponent - kSubBits));
}

std::uint64_t LatencyHistogram::bucket_width(unsigned bucket) noexcept {
  if (bucket < kSubBuckets) return 1;
  return std::uint64_t{1} << (bucket / kSubBuckets - 1);
}

void LatencyHistogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
  min_ = std::min(min_, value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (unsigned i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t LatencyHistogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(
      std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (unsigned i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::min(max_, bucket_floor(i) + bucket_width(i) / 2);
    }
  }
  return max_;
}

}  // namespace zap::load
