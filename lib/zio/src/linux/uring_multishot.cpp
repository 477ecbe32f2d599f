// io_uring backend: multishot accept and recv, and kernel buffer rings.
//
// Native (kernel >= 5.19 for accept, >= 6.0 for recv over a registered buffer ring): one SQE
// stays armed and posts CQEs flagged IORING_CQE_F_MORE; the CQE without it is the last one, after
// which the kernel has let go of the op. Emulated (older kernels, LoopOptions::kernel_multishot =
// false, or a ring the kernel refused): a single-shot ACCEPT / RECV (into a buffer taken from the
// software ring) that the backend re-arms after each successful completion's callback, so the
// caller sees the same sequence of callbacks: more() true per connection/chunk, then one final.
// The emulated recv must not hold a buffer while it waits (a ring smaller than the number of idle
// connections would run dry for good): it tries RECV with MSG_DONTWAIT, and on EAGAIN gives the
// buffer back and waits with a POLL_ADD for readability, then tries again - as epoll does.
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "linux/uring_backend.hpp"

namespace zap::zio::detail {

void UringBackend::detect_multishot(const LoopOptions& options, const char* release,
                                    std::string& reason) {
  // The opcode probe cannot see flags such as IORING_ACCEPT_MULTISHOT: the kernel version can.
  int major = 0;
  int minor = 0;
  std::sscanf(release, "%d.%d", &major, &minor);
  const int version = major * 1000 + minor;
  const bool allowed = options.kernel_multishot;
  features_.multishot_accept = allowed && version >= 5019 && supported_[IORING_OP_ACCEPT];
  features_.multishot_recv = allowed && version >= 6000 && supported_[IORING_OP_RECV];
  const char* why = allowed ? "emulated (kernel too old)" : "emulated (kernel_multishot off)";
  reason += std::string(", multishot accept: ") + (features_.multishot_accept ? "kernel" : why);
  reason +=
      std::string(", multishot recv: ") + (features_.multishot_recv ? "kernel buffer ring" : why);
}

bool UringBackend::prepare_multishot(Operation& op) noexcept {
  if (op.kind_ == OpKind::accept_multishot) {
    op.emulated_ = !features_.multishot_accept;
    return true;
  }
  BufferRing& ring = ring_of(op);
  op.emulated_ = !ring.in_kernel();  // a kernel ring exists only when multishot recv does
  if (!op.emulated_ || op.recv_wait_) return true;  // a readiness poll needs no buffer
  // A non-blocking recv: the buffer is held only for the duration of the attempt.
  std::uint16_t id = 0;
  if (!ring.take(id)) {
    finish_locally(op, -ENOBUFS);
    return false;
  }
  op.buffer_id_ = id;
  return true;
}

void UringBackend::prep_multishot(Operation& op, io_uring_sqe* sqe) noexcept {
  constexpr int kAcceptFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (op.kind_ == OpKind::accept_multishot) {
    if (op.emulated_)
      io_uring_prep_accept(sqe, op.fd_, nullptr, nullptr, kAcceptFlags);
    else
      io_uring_prep_multishot_accept(sqe, op.fd_, nullptr, nullptr, kAcceptFlags);
    return;
  }
  BufferRing& ring = ring_of(op);
  const int flags = static_cast<int>(op.flags_);
  if (op.emulated_) {
    if (op.recv_wait_)
      io_uring_prep_poll_add(sqe, op.fd_, POLLIN);
    else
      io_uring_prep_recv(sqe, op.fd_, ring.buffer(op.buffer_id_), ring.size(),
                         flags | MSG_DONTWAIT);
    return;
  }
  // The kernel picks a buffer of the group for each chunk when data is there.
  io_uring_prep_recv_multishot(sqe, op.fd_, nullptr, 0, flags);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = ring.group();
}

// Called while reaping, before any callback of the batch runs.
UringBackend::Item UringBackend::classify_multishot(Operation& op, std::int64_t res,
                                                    std::uint32_t cqe_flags) noexcept {
  int buffer = -1;
  bool silent = false;  // emulated recv between readiness and data: re-arm, no callback
  if (op.kind_ == OpKind::recv_multishot) {
    BufferRing& ring = ring_of(op);
    if (op.emulated_ && op.recv_wait_) {
      // The readiness poll: readable (or hung up / in error: the recv will say which) -> try the
      // recv again; a negative result (ECANCELED, ...) ends the op below like any error.
      op.recv_wait_ = false;
      silent = res >= 0;
    } else if (op.emulated_ && res == -EAGAIN) {
      // Nothing to read yet: give the buffer back and wait for readability without one.
      ring.unget(op.buffer_id_);
      op.recv_wait_ = true;
      silent = true;
    } else if (op.emulated_) {
      if (res > 0)
        buffer = op.buffer_id_;
      else
        ring.unget(op.buffer_id_);  // nothing received into it
    } else if (cqe_flags & IORING_CQE_F_BUFFER) {
      const auto id = static_cast<std::uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
      if (res > 0)
        buffer = id;
      else
        ring.recycle(id);  // the kernel consumed it for EOF/an error: straight back
    }
  }
  // Native, more to come: the SQE stays armed (and a pending cancel of it stays pending).
  if (cqe_flags & IORING_CQE_F_MORE) return {&op, res, buffer, Delivery::more};

  // The kernel is done with this SQE.
  if (op.prev_ != nullptr || op.next_ != nullptr || cancel_backlog_.head == &op)
    cancel_backlog_.remove(op);  // nothing left to cancel
  if (silent) {
    op.rearm_ = true;  // as below: a cancel() meanwhile only marks it
    return {&op, res, -1, Delivery::rearm_silently};
  }
  const bool success = op.kind_ == OpKind::accept_multishot ? res >= 0 : res > 0;
  if (op.emulated_ && success) {
    // rearm_: a cancel() from a callback (this op's or another's in this batch) only marks it.
    op.rearm_ = true;
    return {&op, res, buffer, Delivery::rearm};
  }
  // Final: an error, EOF, ECANCELED, ENOBUFS, or a success the kernel made the last (e.g. its
  // CQ overflowed). Marked done before any callback, like single-shot ops.
  op.state_ = Operation::State::done;
  return {&op, res, buffer, Delivery::final};
}

void UringBackend::after_emulated_more(Operation& op) noexcept {
  op.rearm_ = false;
  if (op.cancel_requested_) return finish_locally(op, -ECANCELED);  // delivered this turn
  enqueue(op);
}

std::error_code UringBackend::register_buffer_ring(BufferRing& ring, std::uint16_t group) noexcept {
  if (auto ec = validate(ring)) return ec;
  if (!features_.multishot_recv) return attach_software(ring, group);
  // The kernel ring of buffer descriptors (16 bytes each) must be page-aligned memory.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t bytes = (ring.count_ * sizeof(io_uring_buf) + page - 1) / page * page;
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return {errno, std::system_category()};
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
  reg.ring_entries = ring.count_;
  reg.bgid = group;
  if (const int rc = io_uring_register_buf_ring(&ring_, &reg, 0); rc < 0) {
    ::munmap(mem, bytes);
    // EINVAL: no buffer rings in this kernel after all; the software ring still works.
    if (rc == -EINVAL) return attach_software(ring, group);
    return {-rc, std::system_category()};
  }
  if (auto ec = attach_software(ring, group)) {  // the list entry (ids unused on this path)
    io_uring_unregister_buf_ring(&ring_, group);
    ::munmap(mem, bytes);
    return ec;
  }
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br);
  const int mask = io_uring_buf_ring_mask(ring.count_);
  for (std::uint32_t i = 0; i < ring.count_; ++i) {
    io_uring_buf_ring_add(br, ring.buffer(static_cast<std::uint16_t>(i)), ring.size_,
                          static_cast<std::uint16_t>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br, static_cast<int>(ring.count_));  // release: entries first
  ring.kernel_ring_ = mem;
  ring.kernel_ring_bytes_ = bytes;
  return {};
}

void UringBackend::unregister_buffer_ring(BufferRing& ring) noexcept {
  if (ring.kernel_ring_ != nullptr) io_uring_unregister_buf_ring(&ring_, ring.group_);
  detach(ring);
}

}  // namespace zap::zio::detail
