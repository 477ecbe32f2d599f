// epoll backend: multishot accept and recv. The op waits in its fd's readers FIFO for as long as
// it lives; each readiness edge lets it accept/recv until the socket says EAGAIN, with one
// callback (more() true) per connection or chunk. It ends - a final callback from the done list,
// op idle - on an error, EOF, ENOBUFS (no free buffer in the ring when data was ready), cancel()
// or close_fd(). The recv buffers come from the BufferRing's software ring.
#include <cerrno>

#include "linux/epoll_backend.hpp"

namespace zap::zio::detail {
namespace {
// Callbacks one op may run per drain before other fds get their turn; the fd is then re-armed so
// that epoll reports it again in the next turn.
constexpr int kMultishotBurst = 32;
}  // namespace

void EpollBackend::submit_multishot(Operation& op) noexcept {
  if (const int err = multishot_misuse(op); err != 0) return complete(op, -err);
  const int fd = op.fd_;
  if (fd < 0) return complete(op, -EBADF);
  FdState& s = state(fd);
  // The op never runs inside submit (its callbacks must run in run_once): it always waits. If
  // the fd was idle or is known (or only guessed not) to be ready, re-arm it: EPOLL_CTL_MOD
  // reports its current readiness as a fresh edge, so a connection or data already waiting is
  // picked up in the next turn.
  if ((s.readers.empty() && s.writers.empty()) || s.read_ready || s.read_guessed) {
    s.read_guessed = false;
    if (const int err = arm(fd, s); err != 0) return complete(op, -err);
  }
  op.wants_write_ = false;
  s.readers.push_back(op);
}

bool EpollBackend::drain_multishot(int fd, Operation& op) noexcept {
  for (int n = 0; n < kMultishotBurst; ++n) {
    const std::int64_t res = perform(op);  // may grow fds_ (accept): index fds_ afresh below
    if (res == -EAGAIN) {
      fds_[fd].read_ready = false;
      fds_[fd].read_guessed = false;  // known, not guessed
      return false;
    }
    const bool success = op.kind_ == OpKind::accept_multishot ? res >= 0 : res > 0;
    if (!success) {  // error, EOF, ENOBUFS: the op's last completion
      unlink(op);
      complete(op, res);
      return true;
    }
    note_short_transfer(op, res, fds_[fd]);  // a short chunk: the socket is empty
    inline_delivered_ +=
        deliver_more(op, res, op.kind_ == OpKind::recv_multishot ? op.buffer_id_ : -1);
    // The callback may have cancelled the op or closed the fd (both complete the op).
    if (op.state_ != Operation::State::queued) return true;
    if (!fds_[fd].read_ready) return false;
  }
  // Burst limit reached with the fd still ready: let the other fds run; MOD re-reports it.
  if (arm(fd, fds_[fd]) != 0) {
    unlink(op);
    complete(op, -EBADF);
    return true;
  }
  return false;
}

}  // namespace zap::zio::detail
