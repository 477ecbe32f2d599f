// CachePadded<T>: a T alone on its own cache-line pair.
//
// Two atomics written by different threads must not share a line, or every write invalidates the
// other core's copy (false sharing). 128 bytes, not 64: Intel's adjacent-line prefetcher pulls
// lines in pairs, so neighbours within 128 bytes still ping-pong (crossbeam and Folly pad the same
// way).
//
//   struct Queue { CachePadded<std::atomic<size_t>> head; CachePadded<std::atomic<size_t>> tail; };
//   queue.head->load(std::memory_order_acquire);
//
// Thread-safety: that of T.
#pragma once

#include <cstddef>
#include <utility>

namespace zap::zync {

#if defined(__x86_64__) || defined(__aarch64__) || defined(__powerpc64__)
inline constexpr std::size_t kCacheLineSize = 128;
#else
inline constexpr std::size_t kCacheLineSize = 64;
#endif

template <typename T>
struct alignas(kCacheLineSize) CachePadded {
  T value;

  CachePadded() = default;
  template <typename... Args>
  explicit CachePadded(Args&&... args) : value(std::forward<Args>(args)...) {}

  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
};

}  // namespace zap::zync
