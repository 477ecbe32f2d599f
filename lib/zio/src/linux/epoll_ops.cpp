// The epoll backend's syscalls: each op performed once, non-blocking, returning -errno.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "linux/epoll_backend.hpp"
#include "zap/zio/address.hpp"

namespace zap::zio::detail {
namespace {

std::int64_t result_of(ssize_t rc) noexcept { return rc < 0 ? -errno : rc; }

}  // namespace

std::int64_t EpollBackend::perform(Operation& op) noexcept {
  const bool at_position = op.offset_ == Operation::kCurrentPosition;
  const auto off = static_cast<off_t>(op.offset_);
  const int flags = static_cast<int>(op.flags_);
  for (;;) {
    std::int64_t res = 0;
    switch (op.kind_) {
      // An offset on a file that cannot seek (ESPIPE: a pipe, a socket, a TTY) is ignored, as
      // io_uring ignores it: the op reads or writes at the stream's position. (Only a caller
      // that passed an offset to a stream pays the second system call.)
      case OpKind::read:
        res = result_of(at_position ? ::read(op.fd_, op.addr_, op.len_)
                                    : ::pread(op.fd_, op.addr_, op.len_, off));
        if (res == -ESPIPE) res = result_of(::read(op.fd_, op.addr_, op.len_));
        break;
      case OpKind::write:
        res = result_of(at_position ? ::write(op.fd_, op.addr_, op.len_)
                                    : ::pwrite(op.fd_, op.addr_, op.len_, off));
        if (res == -ESPIPE) res = result_of(::write(op.fd_, op.addr_, op.len_));
        break;
      case OpKind::readv: {
        const auto* iov = static_cast<const iovec*>(op.addr_);
        const int n = static_cast<int>(op.len_);
        res = result_of(at_position ? ::readv(op.fd_, iov, n) : ::preadv(op.fd_, iov, n, off));
        if (res == -ESPIPE) res = result_of(::readv(op.fd_, iov, n));
        break;
      }
      case OpKind::writev: {
        const auto* iov = static_cast<const iovec*>(op.addr_);
        const int n = static_cast<int>(op.len_);
        res = result_of(at_position ? ::writev(op.fd_, iov, n) : ::pwritev(op.fd_, iov, n, off));
        if (res == -ESPIPE) res = result_of(::writev(op.fd_, iov, n));
        break;
      }
      case OpKind::recv:
        res = result_of(::recv(op.fd_, op.addr_, op.len_, flags | MSG_DONTWAIT));
        break;
      case OpKind::send:
        res = result_of(::send(op.fd_, op.addr_, op.len_, flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        break;
      case OpKind::recvmsg:
        res = result_of(::recvmsg(op.fd_, static_cast<msghdr*>(op.addr_), flags | MSG_DONTWAIT));
        break;
      case OpKind::sendmsg:
        res = result_of(::sendmsg(op.fd_, static_cast<const msghdr*>(op.addr_),
                                  flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        break;
      case OpKind::accept: {
        auto* peer = static_cast<SocketAddress*>(op.addr_);
        if (peer != nullptr) *peer->size_ptr() = peer->capacity();
        res = result_of(::accept4(op.fd_, peer ? peer->data() : nullptr,
                                  peer ? peer->size_ptr() : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (res >= 0) reset_fd(static_cast<int>(res));
        // A connection that died in the backlog: the listener is still fine; try the next.
        if (res == -ECONNABORTED) continue;
        break;
      }
      case OpKind::accept_multishot:
        res = result_of(::accept4(op.fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (res >= 0) reset_fd(static_cast<int>(res));
        if (res == -ECONNABORTED) continue;
        break;
      case OpKind::recv_multishot: {
        // A buffer only for a recv about to run; back at once if nothing arrived in it.
        BufferRing& ring = ring_of(op);
        std::uint16_t id = 0;
        if (!ring.take(id)) {
          res = -ENOBUFS;
          break;
        }
        res = result_of(::recv(op.fd_, ring.buffer(id), ring.size(), flags | MSG_DONTWAIT));
        if (res > 0)
          op.buffer_id_ = id;
        else
          ring.unget(id);
        break;
      }
      case OpKind::connect: {
        if (!op.connecting_) {
          const auto* to = static_cast<const SocketAddress*>(op.addr_);
          res = result_of(::connect(op.fd_, to->data(), to->size()));
          if (res == -EAGAIN) {
            // Not "wait": a Unix socket's listener with a full backlog (or no local port left).
            // Its end never shows as EPOLLOUT on this socket, so waiting would never end; the
            // caller gets EAGAIN, as io_uring reports it.
            res = kFinalEagain;
          } else if (res == -EINPROGRESS) {
            op.connecting_ = true;  // completion arrives as EPOLLOUT; SO_ERROR tells the outcome
            res = -EAGAIN;
          }
        } else {
          int err = 0;
          socklen_t len = sizeof(err);
          res = ::getsockopt(op.fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ? -errno : -err;
        }
        break;
      }
      case OpKind::shutdown:
        res = result_of(::shutdown(op.fd_, flags));
        break;
      case OpKind::fsync:
        res = result_of(op.flags_ ? ::fdatasync(op.fd_) : ::fsync(op.fd_));
        break;
      case OpKind::openat:
        res = result_of(::openat(op.fd_, static_cast<const char*>(op.addr_), flags | O_CLOEXEC,
                                 static_cast<mode_t>(op.len_)));
        if (res >= 0) reset_fd(static_cast<int>(res));
        break;
      case OpKind::close:
        res = result_of(::close(op.fd_));
        break;  // never retried on EINTR
      case OpKind::statx:
        res = result_of(::statx(op.fd_, static_cast<const char*>(op.addr_), flags, op.len_,
                                static_cast<struct statx*>(op.aux_)));
        break;
      case OpKind::splice: {
        loff_t in_off = static_cast<loff_t>(op.offset_);
        loff_t out_off = static_cast<loff_t>(op.offset2_);
        res = result_of(::splice(op.fd_, at_position ? nullptr : &in_off, op.fd2_,
                                 op.offset2_ == Operation::kCurrentPosition ? nullptr : &out_off,
                                 op.len_, op.flags_ | SPLICE_F_NONBLOCK));
        break;
      }
      case OpKind::poll: {
        // The truth, not the loop's readiness hints: those may be stale for IO done outside zio.
        pollfd pfd{op.fd_, static_cast<short>(op.flags_), 0};
        res = ::poll(&pfd, 1, 0) < 0 ? -errno : (pfd.revents != 0 ? pfd.revents : -EAGAIN);
        if (res > 0 && (pfd.revents & POLLNVAL)) res = -EBADF;
        break;
      }
      case OpKind::nop:
        res = 0;
        break;
      case OpKind::timeout:
      case OpKind::none:
        res = -EINVAL;
        break;
    }
    if (res == -EINTR && op.kind_ != OpKind::close) continue;
    if (res == -EWOULDBLOCK) res = -EAGAIN;
    return res;
  }
}

}  // namespace zap::zio::detail
