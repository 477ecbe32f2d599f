// BufferRing: a pool of equal-sized receive buffers that a Loop hands out to multishot recvs
// (Operation::prep_recv_multishot), so a server with many idle connections needs no buffer per
// connection - a buffer is taken only when data arrives.
//
// The caller owns the memory (count x size bytes, count a power of two) and the BufferRing object.
// Register it with a Loop under a buffer group id; each recv completion then names the buffer it
// filled (Operation::buffer_id()), which is the caller's until it calls recycle(id).
//
//   static std::byte memory[256 * 4096];
//   zio::BufferRing ring(memory, 256, 4096);
//   if (auto ec = loop->register_buffer_ring(ring, /*group=*/1)) return ec;
//   op.prep_recv_multishot(fd, ring);               // callback per chunk, while op.more()
//   ...in the callback: if (op.has_buffer()) { use(ring.buffer(op.buffer_id()), r.bytes());
//                                              ring.recycle(op.buffer_id()); }
//   // a final ENOBUFS means the ring ran dry: recycle buffers, then submit the op again.
//
// On io_uring with kernel multishot recv (6.0+) the ring is registered in the kernel
// (IORING_REGISTER_PBUF_RING) and recycle() publishes the buffer to it with one release store.
// Otherwise (epoll, older kernels, LoopOptions::kernel_multishot = false) it is a software ring of
// free buffer ids from which the backend takes a buffer per recv. Same interface and semantics.
//
// Lifetime: the memory and this object must outlive every recv op using it. Unregister (or
// destroy the ring, which unregisters) only when no such op is busy. Destroying the Loop first is
// fine: the ring is then detached.
//
// Thread-safety: like its Loop - used only on the Loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace zap::zio {

class Loop;
namespace detail {
class Backend;
class UringBackend;
class EpollBackend;
}  // namespace detail

class BufferRing {
 public:
  static constexpr std::uint32_t kMaxCount = 32768;  // the kernel's limit for a buffer ring

  // `memory`: count * size bytes, caller-owned. count: a power of two in [1, kMaxCount].
  BufferRing(void* memory, std::uint32_t count, std::uint32_t size) noexcept
      : memory_(static_cast<std::byte*>(memory)), count_(count), size_(size) {}
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  [[nodiscard]] std::byte* buffer(std::uint16_t id) const noexcept {
    return memory_ + static_cast<std::size_t>(id) * size_;
  }
  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint16_t group() const noexcept { return group_; }
  [[nodiscard]] bool registered() const noexcept { return backend_ != nullptr; }
  // True if the kernel picks the buffers (io_uring buffer ring), false for the software ring.
  [[nodiscard]] bool in_kernel() const noexcept { return kernel_ring_ != nullptr; }

  // Gives buffer `id` back to the ring. Each id handed out by a completion is recycled exactly
  // once. No syscall. After the ring was unregistered (or its Loop destroyed) this does nothing.
  // Registering the ring again makes every buffer free: ids handed out before must not be
  // recycled after that (they would be in the ring twice).
  void recycle(std::uint16_t id) noexcept;

 private:
  friend class Loop;
  friend class detail::Backend;
  friend class detail::UringBackend;
  friend class detail::EpollBackend;

  // Software ring: free ids in ids_[head_ .. tail_) (indices masked). take() for a recv about to
  // run, unget() when it received nothing.
  bool take(std::uint16_t& id) noexcept {
    if (head_ == tail_) return false;
    id = free_ids_[head_++ & (count_ - 1)];
    return true;
  }
  void unget(std::uint16_t id) noexcept { free_ids_[--head_ & (count_ - 1)] = id; }

  std::byte* memory_;
  std::uint32_t count_;
  std::uint32_t size_;
  std::uint16_t group_ = 0;
  std::uint32_t head_ = 0;                     // software ring: next free id to take
  std::uint32_t tail_ = 0;                     // software ring: where the next recycled id goes
  std::unique_ptr<std::uint16_t[]> free_ids_;  // software ring, allocated at registration
  void* kernel_ring_ = nullptr;                // io_uring_buf_ring, mmap'd, owned
  std::size_t kernel_ring_bytes_ = 0;
  detail::Backend* backend_ = nullptr;     // the Loop's backend while registered
  BufferRing* next_registered_ = nullptr;  // that backend's list of registered rings
};

}  // namespace zap::zio
