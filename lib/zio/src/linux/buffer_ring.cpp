// BufferRing: recycle() for both shapes of the ring, and the registration bookkeeping shared by
// the backends (the software ring; io_uring's kernel ring is set up in uring_multishot.cpp).
#include "zap/zio/buffer_ring.hpp"

#include <liburing.h>
#include <sys/mman.h>

#include <cerrno>
#include <new>

#include "backend.hpp"

namespace zap::zio {

BufferRing::~BufferRing() {
  if (backend_ != nullptr) backend_->unregister_buffer_ring(*this);
}

void BufferRing::recycle(std::uint16_t id) noexcept {
  // Unregistered (or its Loop is gone): no ring to return the id to; the buffer is simply the
  // caller's memory again. Without this a late recycle wrote through the freed id table.
  if (backend_ == nullptr) return;
  if (kernel_ring_ != nullptr) {
    // Only this thread writes the ring's entries and tail; the kernel reads them. The entry is
    // written first, then io_uring_buf_ring_advance publishes it with a release store of the
    // tail, which the kernel's acquire load of the tail pairs with.
    auto* br = static_cast<io_uring_buf_ring*>(kernel_ring_);
    io_uring_buf_ring_add(br, buffer(id), size_, id, io_uring_buf_ring_mask(count_), 0);
    io_uring_buf_ring_advance(br, 1);
    return;
  }
  free_ids_[tail_++ & (count_ - 1)] = id;
}

namespace detail {

std::error_code Backend::validate(const BufferRing& ring) noexcept {
  const std::uint32_t n = ring.count_;
  if (ring.memory_ == nullptr || ring.size_ == 0 || n == 0 || n > BufferRing::kMaxCount ||
      (n & (n - 1)) != 0)
    return {EINVAL, std::system_category()};
  if (ring.backend_ != nullptr) return {EBUSY, std::system_category()};
  return {};
}

std::error_code Backend::register_buffer_ring(BufferRing& ring, std::uint16_t group) noexcept {
  if (auto ec = validate(ring)) return ec;
  return attach_software(ring, group);
}

void Backend::unregister_buffer_ring(BufferRing& ring) noexcept { detach(ring); }

// Every buffer starts free: ids 0..count-1 in order.
std::error_code Backend::attach_software(BufferRing& ring, std::uint16_t group) noexcept {
  ring.free_ids_.reset(new (std::nothrow) std::uint16_t[ring.count_]);
  if (!ring.free_ids_) return {ENOMEM, std::system_category()};
  for (std::uint32_t i = 0; i < ring.count_; ++i) ring.free_ids_[i] = static_cast<std::uint16_t>(i);
  ring.head_ = 0;
  ring.tail_ = ring.count_;
  ring.group_ = group;
  ring.backend_ = this;
  ring.next_registered_ = rings_;
  rings_ = &ring;
  return {};
}

void Backend::detach(BufferRing& ring) noexcept {
  for (BufferRing** link = &rings_; *link != nullptr; link = &(*link)->next_registered_) {
    if (*link == &ring) {
      *link = ring.next_registered_;
      break;
    }
  }
  ring.next_registered_ = nullptr;
  ring.backend_ = nullptr;
  ring.free_ids_.reset();
  ring.head_ = ring.tail_ = 0;
  // The kernel no longer reads the ring (unregistered, or the io_uring instance is gone).
  if (ring.kernel_ring_ != nullptr) ::munmap(ring.kernel_ring_, ring.kernel_ring_bytes_);
  ring.kernel_ring_ = nullptr;
  ring.kernel_ring_bytes_ = 0;
}

void Backend::detach_all() noexcept {
  while (rings_ != nullptr) detach(*rings_);
}

}  // namespace detail
}  // namespace zap::zio
