// FdOpIndex: the io_uring backend's record of which busy ops name which fd, so that close_fd can
// cancel each of them by its address (IORING_OP_ASYNC_CANCEL on user_data) instead of asking the
// kernel to resolve the fd number (IORING_ASYNC_CANCEL_FD): that does not exist before 5.19, and
// under SQPOLL it would be resolved after our close(2), possibly on a reused number.
//
// Intrusive (Operation::fd_next_/fd_prev_): add and remove are O(1) pointer writes, no allocation
// except when a higher fd number than ever before shows up (the head table grows, amortised).
// Splices name two fds; they are few, so they share one list that close_fd scans for either fd.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "backend.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zio::detail {

struct FdOpIndex {
  std::vector<Operation*> heads;  // by fd number
  Operation* splices = nullptr;

  FdOpIndex() { heads.resize(1024); }

  // An op is indexed from submit to its final delivery when it names an fd (dir fds included).
  static bool indexed(const Operation& op) noexcept {
    return op.kind_ == OpKind::splice || op.fd_ >= 0;
  }
  Operation*& head_of(const Operation& op) noexcept {
    return op.kind_ == OpKind::splice ? splices : heads[static_cast<std::size_t>(op.fd_)];
  }

  // False when `op` names an fd number no process can have open (kMaxFdNumber, backend.hpp): the
  // caller fails the op with EBADF instead of growing the table to match a garbage number.
  [[nodiscard]] bool add(Operation& op) {
    if (!indexed(op)) return true;
    if (op.kind_ != OpKind::splice && static_cast<std::size_t>(op.fd_) >= heads.size()) {
      if (op.fd_ >= kMaxFdNumber) return false;
      heads.resize(std::max<std::size_t>(static_cast<std::size_t>(op.fd_) + 1, heads.size() * 2));
    }
    Operation*& head = head_of(op);
    op.fd_prev_ = nullptr;
    op.fd_next_ = head;
    if (head != nullptr) head->fd_prev_ = &op;
    head = &op;
    return true;
  }
  void remove(Operation& op) noexcept {
    if (!indexed(op)) return;
    // add() refused it (a garbage fd beyond the table): it was never linked.
    if (op.kind_ != OpKind::splice && static_cast<std::size_t>(op.fd_) >= heads.size()) return;
    if (op.fd_prev_ != nullptr)
      op.fd_prev_->fd_next_ = op.fd_next_;
    else
      head_of(op) = op.fd_next_;
    if (op.fd_next_ != nullptr) op.fd_next_->fd_prev_ = op.fd_prev_;
    op.fd_next_ = op.fd_prev_ = nullptr;
  }

  // Calls f(op) for every indexed op naming `fd`. f must not remove ops (cancel() does not: ops
  // leave the index only when delivered, inside run_once).
  template <typename F>
  void for_each_on(int fd, F&& f) {
    if (fd >= 0 && static_cast<std::size_t>(fd) < heads.size()) {
      for (Operation* op = heads[static_cast<std::size_t>(fd)]; op != nullptr; op = op->fd_next_)
        f(*op);
    }
    for (Operation* op = splices; op != nullptr; op = op->fd_next_)
      if (op->fd_ == fd || op->fd2_ == fd) f(*op);
  }
};

}  // namespace zap::zio::detail
