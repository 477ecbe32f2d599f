// io_uring backend: close_fd.
//
// Two hazards. (1) The kernel resolves an SQE's fd number when it issues the SQE, not when we
// write it; releasing the number with close(2) before that lets a reused number send an op (or
// an fd-based cancel) to the wrong file. Without SQPOLL, issue happens inside our io_uring_enter;
// under SQPOLL, in the kernel thread, some time after io_uring_submit returns. (2) Cancelling by
// fd (IORING_ASYNC_CANCEL_FD) needs 5.19 and is itself resolved by number.
//
// So: every busy op on the fd is cancelled by its address (FdOpIndex finds them; works on every
// kernel, and no number is involved), and the number is released only after every SQE naming it
// has been issued: at once when the SQ is empty after a plain submit, else by an IORING_OP_CLOSE
// queued behind those SQEs (the kernel issues SQEs in order; each op has taken its own reference
// to the file by then, so it completes - with ECANCELED - whatever happens to the number); when
// neither is possible now (no SQE free, or no IORING_OP_CLOSE before 5.6), a later run_once
// releases it once the SQ allows.
#include <liburing.h>
#include <unistd.h>

#include "linux/uring_backend.hpp"

namespace zap::zio::detail {

void UringBackend::close_fd(int fd) noexcept {
  if (fd < 0) return;
  // cancel() marks cancel_requested_, so an op with a deadline ends ECANCELED, not ETIMEDOUT.
  fd_ops_.for_each_on(fd, [this](Operation& op) { cancel(op); });
  close_after_issued(fd);
}

void UringBackend::close_after_issued(int fd) noexcept {
  if (!sqpoll_) {
    io_uring_submit(&ring_);
    // The SQ head moves past an SQE only once io_uring_enter has issued it.
    if (io_uring_sq_ready(&ring_) == 0) {
      ::close(fd);
      return;
    }
    // The kernel took nothing (EBUSY while the CQ overflows): close in SQ order instead.
  }
  if (supported_[IORING_OP_CLOSE] && reserve(1)) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, kCloseTag);
    ++in_kernel_;             // ~Loop waits for it: a close left in the SQ would leak the fd
    io_uring_submit(&ring_);  // SQPOLL: wakes the thread if it idles
    return;
  }
  // No IORING_OP_CLOSE (before 5.6) or no SQE free (the kernel refuses work while its CQ
  // overflows, and only reaping - in run_once - makes room): keep the number open until a later
  // turn has issued the SQ. Waiting here instead would spin without ever reaping.
  if (deferred_closes_.capacity() == deferred_closes_.size()) {
    deferred_closes_.reserve(deferred_closes_.size() * 2 + 16);  // rare: not the IO hot path
  }
  deferred_closes_.push_back(fd);
}

void UringBackend::flush_deferred_closes() noexcept {
  if (io_uring_sq_ready(&ring_) == 0) {  // every SQE naming them has been issued
    for (const int fd : deferred_closes_) ::close(fd);
    deferred_closes_.clear();
    return;
  }
  if (!supported_[IORING_OP_CLOSE]) return;  // a later turn, once the SQ is issued
  while (!deferred_closes_.empty() && reserve(1)) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_close(sqe, deferred_closes_.back());
    io_uring_sqe_set_data64(sqe, kCloseTag);
    ++in_kernel_;
    deferred_closes_.pop_back();
  }
  io_uring_submit(&ring_);
}

}  // namespace zap::zio::detail
