// AdaptiveBuffer: a connection's relay buffer (zap-echo, zap-proxy) that starts small, grows
// while the stream keeps filling it, and shrinks back once reads are small again.
//
//   AdaptiveBuffer buffer(16384, 65536);      // initial and largest size
//   if (!buffer.ok()) ... out of memory ...
//   n = co_await recv(fd, buffer.data(), buffer.size());
//   co_await send_all(fd, buffer.data(), n);
//   buffer.adapt(n);                          // only once the bytes are used: it may move
//
// Why: a bulk stream moves in reads and writes of the buffer's size, and each costs a syscall or
// an io_uring op plus the kernel's per-call work; on loopback 64 KiB pieces cost zap-proxy ~30 %
// less CPU per byte than 16 KiB ones. Yet most connections carry small messages, and thousands of
// them should hold only the small size. So a read that fills the buffer makes it 4 times larger
// (up to the largest size), and 8 small reads in a row (at most half the initial size each) make
// it 4 times smaller again, down to the initial size. The gap between the two thresholds keeps a
// stream whose reads are about the initial size (a sender writing in such pieces) from growing
// and shrinking in turn; and a grown buffer stays while its stream still moves pieces that do
// not fit the initial size. A failed allocation keeps the buffer it has. Memory comes from
// zimalloc: this worker's thread heap, no lock. Not thread-safe: one connection's direction.
// Its ceiling is the largest size, which a connection that carried a bulk stream and then went
// quiet may keep until release_growth() (or its end).
#pragma once

#include <cstddef>
#include <cstdint>

namespace zap::app {

class AdaptiveBuffer {
 public:
  static constexpr std::uint32_t kSmallReadsBeforeShrink = 8;
  static constexpr std::size_t kGrowthFactor = 4;

  // Allocates `initial` bytes (check ok()); `largest` < `initial` counts as `initial` (no growth).
  AdaptiveBuffer(std::size_t initial, std::size_t largest) noexcept;
  ~AdaptiveBuffer();
  AdaptiveBuffer(const AdaptiveBuffer&) = delete;
  AdaptiveBuffer& operator=(const AdaptiveBuffer&) = delete;

  bool ok() const noexcept { return data_ != nullptr; }
  std::byte* data() noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  // After a read of `n` bytes into data() has been used: resizes for the next read (the content
  // is not kept). Never fails: without memory it keeps the current buffer.
  void adapt(std::size_t n) noexcept;
  // Back to the initial size (its stream has gone quiet); the content is not kept.
  void release_growth() noexcept;

 private:
  void resize(std::size_t size) noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  const std::size_t initial_;
  const std::size_t largest_;
  std::uint32_t small_reads_ = 0;  // reads in a row of at most half of `initial_`
};

}  // namespace zap::app
