// LatencyHistogram: an HDR-style log-linear histogram of nanosecond latencies -- every power of
// two is split into 32 linear sub-buckets, so any recorded value is reported within ~3%, from
// 1 ns to hours, in a fixed 16 KiB with no allocation after construction.
//
//   LatencyHistogram h;
//   h.record(elapsed_ns);
//   total.merge(h);
//   std::uint64_t p99 = total.percentile(99.0);   // ns (the middle of the value's bucket)
//
// Thread-safety: none; keep one per connection and merge at the end.
#pragma once

#include <array>
#include <cstdint>

namespace zap::load {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 5;  // 32 sub-buckets per power of two
  static constexpr unsigned kSubBuckets = 1u << kSubBits;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSubBuckets;

  void record(std::uint64_t value) noexcept;
  void merge(const LatencyHistogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : double(sum_) / double(count_); }
  // The value at `percent` (0-100] of the recorded values; 0 when empty. Never above max().
  std::uint64_t percentile(double percent) const noexcept;

  static unsigned bucket_of(std::uint64_t value) noexcept;
  // The smallest value that falls in `bucket`, and the width of the bucket.
  static std::uint64_t bucket_floor(unsigned bucket) noexcept;
  static std::uint64_t bucket_width(unsigned bucket) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = UINT64_MAX;
};

}  // namespace zap::load
