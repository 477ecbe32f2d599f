// Operation: one intrusive, caller-owned IO request (read, send, accept, timer, ...) and its
// Result.
//
// The caller owns the Operation object: zio never allocates one. Prepare it with a prep_* call,
// hand it to Loop::submit(), and keep it (and every buffer/address/path it points to) alive and
// unmoved until its callback has run. After the callback starts, the object is the caller's again:
// the callback may resubmit it, reuse it for another kind, or destroy it.
//
//   void on_recv(zio::Operation& op, zio::Result r) {
//     auto* conn = static_cast<Connection*>(op.user());
//     if (!r) return conn->fail(r.error());       // std::error_code, e.g. ECONNRESET, ECANCELED
//     conn->got(r.bytes());                        // 0 bytes on a stream socket = peer closed
//   }
//   zio::Operation op(&on_recv, &conn);
//   op.prep_recv(fd, buf, sizeof(buf));
//   op.set_timeout(std::chrono::seconds(5));        // optional deadline: fails with ETIMEDOUT
//   loop.submit(op);                                // callback runs later, inside loop.run_once()
//
// Callbacks are plain function pointers (one indirect call, no std::function, no allocation) and
// run only inside Loop::run_once(), never inside submit() or cancel(), so a callback never
// re-enters the code that submitted. Errors come as std::error_code in std::system_category();
// nothing on this path throws.
//
// Order: ops on one stream socket complete in submission order only one per direction at a time
// -- keep at most one recv and one send in flight per socket (as zell's awaitables do), and
// submit the next when the last completes. With several in flight at once, epoll serves them in
// order but io_uring may not: its kernel retries ops that waited for readiness newest first, so
// three 1-byte recvs of "ABC" can get C, B, A, and queued sends can reach the peer out of order.
// (Datagram sockets, files at explicit offsets and accepts have no such stream to keep in order.)
//
// Thread-safety: an Operation belongs to one Loop while in flight and is touched only by that
// Loop's thread.
#pragma once

#include <poll.h>

#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

struct msghdr;
struct statx;

namespace zap::zio {

class BufferRing;
class Loop;
class Operation;
class SocketAddress;
namespace detail {
class Backend;
class UringBackend;
class EpollBackend;
struct OpList;
struct FdOpIndex;
class TimerHeap;
}  // namespace detail

// The outcome of an Operation: a non-negative value (bytes moved, or the new fd for accept/open)
// or an error. Kept as the kernel's raw int64 (-errno on failure) so it costs one register.
class Result {
 public:
  constexpr Result() noexcept = default;
  constexpr explicit Result(std::int64_t raw) noexcept : raw_(raw) {}

  [[nodiscard]] constexpr bool ok() const noexcept { return raw_ >= 0; }
  [[nodiscard]] constexpr explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] std::error_code error() const noexcept {
    return raw_ >= 0 ? std::error_code()
                     : std::error_code(static_cast<int>(-raw_), std::system_category());
  }
  // Bytes transferred (read/write/send/recv/splice); meaningful only when ok().
  [[nodiscard]] constexpr std::size_t bytes() const noexcept {
    return ok() ? static_cast<std::size_t>(raw_) : 0;
  }
  // The new descriptor of accept/openat; meaningful only when ok().
  [[nodiscard]] constexpr int fd() const noexcept { return ok() ? static_cast<int>(raw_) : -1; }
  // -errno or the value: what the kernel said.
  [[nodiscard]] constexpr std::int64_t raw() const noexcept { return raw_; }

 private:
  std::int64_t raw_ = 0;
};

enum class OpKind : std::uint8_t {
  none,
  nop,
  read,  // fd, buf, len, offset (kCurrentPosition for pipes, sockets, TTYs)
  write,
  readv,
  writev,
  recv,  // sockets; flags are MSG_*
  send,
  recvmsg,  // UDP recvfrom/sendto through a msghdr (see socket.hpp Datagram)
  sendmsg,
  accept,  // result: new fd (non-blocking, close-on-exec)
  connect,
  shutdown,
  timeout,  // a timer: completes with 0 after the duration, or ECANCELED
  fsync,
  openat,
  close,
  statx,
  splice,
  accept_multishot,  // one callback per accepted connection; see prep_accept_multishot
  recv_multishot,    // one callback per received chunk, into a BufferRing buffer
  poll,              // readiness: completes with the revents mask; see prep_poll
};

class Operation {
 public:
  using Callback = void (*)(Operation& op, Result result);
  // Offset meaning "the file's current position" (pipes, sockets, TTYs, stdin/stdout).
  static constexpr std::uint64_t kCurrentPosition = ~std::uint64_t{0};

  Operation() noexcept = default;
  explicit Operation(Callback callback, void* user = nullptr) noexcept
      : callback_(callback), user_(user) {}
  // The address of an Operation is its identity in the kernel while it is in flight.
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  void set_callback(Callback callback, void* user) noexcept {
    callback_ = callback;
    user_ = user;
  }
  [[nodiscard]] void* user() const noexcept { return user_; }
  void set_user(void* user) noexcept { user_ = user; }
  [[nodiscard]] OpKind kind() const noexcept { return kind_; }
  // True from submit() until the callback of its last completion starts. A multishot op stays
  // busy during the callbacks that say more(): it must not be resubmitted or destroyed then.
  [[nodiscard]] bool busy() const noexcept { return state_ != State::idle; }

  // --- multishot: valid inside a callback.
  // True if more completions of this op will follow (it is still submitted, busy() is true);
  // false on its last one, after which the op is idle and the caller's again. Always false for
  // single-shot kinds. A more() callback may cancel() the op (a final ECANCELED follows) or
  // close_fd() its fd; it must not resubmit, re-prepare or destroy the op.
  [[nodiscard]] bool more() const noexcept { return more_; }
  // recv_multishot: true if this completion filled a buffer of the op's BufferRing, named by
  // buffer_id(); then Result::bytes() > 0, the buffer belongs to the caller, and the caller must
  // give it back with BufferRing::recycle(buffer_id()) when done with it (now or later).
  // Completions without data (EOF, errors) never carry a buffer: the backend recycles it.
  [[nodiscard]] bool has_buffer() const noexcept { return has_buffer_; }
  [[nodiscard]] std::uint16_t buffer_id() const noexcept { return buffer_id_; }

  // A deadline relative to submission: if the operation has not completed by then it is
  // cancelled and completes with ETIMEDOUT. Both backends keep deadlines in a user-space heap and
  // bound their wait by the earliest one; io_uring sends the kernel an async cancel when one
  // passes. Zero (the default) means none. Kept across resubmits until changed; prep_* clears it.
  void set_timeout(std::chrono::nanoseconds timeout) noexcept {
    timeout_ns_ = timeout.count() > 0 ? timeout.count() : 0;
  }

  // --- preparation: fills in the request; does not submit. Pointers must outlive completion.
  // read/write/readv/writev: `offset` is a file position (pread(2)); on a file that cannot seek
  // (a pipe, a socket, a TTY) it is ignored, as io_uring does, on both backends.
  void prep_nop() noexcept { reset(OpKind::nop); }
  void prep_read(int fd, void* buf, std::size_t len,
                 std::uint64_t offset = kCurrentPosition) noexcept {
    reset(OpKind::read, fd, buf, len, offset);
  }
  void prep_write(int fd, const void* buf, std::size_t len,
                  std::uint64_t offset = kCurrentPosition) noexcept {
    reset(OpKind::write, fd, const_cast<void*>(buf), len, offset);
  }
  void prep_readv(int fd, const iovec* iov, int count,
                  std::uint64_t offset = kCurrentPosition) noexcept {
    reset(OpKind::readv, fd, const_cast<iovec*>(iov), static_cast<std::uint32_t>(count), offset);
  }
  void prep_writev(int fd, const iovec* iov, int count,
                   std::uint64_t offset = kCurrentPosition) noexcept {
    reset(OpKind::writev, fd, const_cast<iovec*>(iov), static_cast<std::uint32_t>(count), offset);
  }
  void prep_recv(int fd, void* buf, std::size_t len, int msg_flags = 0) noexcept {
    reset(OpKind::recv, fd, buf, len);
    flags_ = static_cast<std::uint32_t>(msg_flags);
  }
  // MSG_NOSIGNAL is always added: a closed peer is reported as EPIPE, never as SIGPIPE.
  void prep_send(int fd, const void* buf, std::size_t len, int msg_flags = 0) noexcept {
    reset(OpKind::send, fd, const_cast<void*>(buf), len);
    flags_ = static_cast<std::uint32_t>(msg_flags);
  }
  void prep_recvmsg(int fd, msghdr* msg, int msg_flags = 0) noexcept {
    reset(OpKind::recvmsg, fd, msg);
    flags_ = static_cast<std::uint32_t>(msg_flags);
  }
  void prep_sendmsg(int fd, const msghdr* msg, int msg_flags = 0) noexcept {
    reset(OpKind::sendmsg, fd, const_cast<msghdr*>(msg));
    flags_ = static_cast<std::uint32_t>(msg_flags);
  }
  // `peer` (optional) receives the remote address. Result: the new fd, O_NONBLOCK|O_CLOEXEC.
  void prep_accept(int listen_fd, SocketAddress* peer = nullptr) noexcept {
    reset(OpKind::accept, listen_fd, peer);
  }
  // Multishot accept: one submission, then one callback per accepted connection (Result::fd(),
  // O_NONBLOCK|O_CLOEXEC) with more() true while the op stays armed. Its last completion has
  // more() false and the op is idle again: an error (e.g. EMFILE), ECANCELED after cancel() or
  // close_fd(), or - rarely - a success the kernel chose to make final (e.g. when its completion
  // queue overflowed); after a final success the caller simply submits the op again. Connections
  // that raced a cancel() still arrive (more() true) before the final ECANCELED, so no accepted
  // fd is lost. No peer address (socket.hpp peer_address(fd)) and no deadline: with set_timeout()
  // the op completes with EINVAL. io_uring >= 5.19 does this in the kernel; older kernels,
  // LoopOptions::kernel_multishot = false and epoll re-arm a single-shot accept internally with
  // the same callbacks (Loop::features() tells which).
  void prep_accept_multishot(int listen_fd) noexcept { reset(OpKind::accept_multishot, listen_fd); }
  // Multishot recv into buffers the backend picks from `ring` (registered with the same Loop):
  // one callback per chunk with more() true, has_buffer() and buffer_id(); recycle the buffer when
  // done. The last completion (more() false) is 0 bytes (EOF), an error, ECANCELED after cancel()
  // or close_fd(), or ENOBUFS: the ring had no free buffer when one was needed (io_uring may say
  // so at once if the ring is empty at submit); recycle buffers, then submit the op again. No
  // deadline (EINVAL). Kernel path: io_uring >= 6.0 with the ring registered in the kernel; else
  // emulated by single-shot recvs (io_uring) or recv on readiness (epoll) from the same ring.
  // A multishot op must be the only read-side op on its fd while it is armed: epoll serves an
  // fd's readers in order and a multishot op never leaves the head of that queue. Every path
  // takes a buffer only once data is there (emulated io_uring: a readiness poll, then a
  // non-blocking recv), so idle ops hold none.
  void prep_recv_multishot(int fd, BufferRing& ring, int msg_flags = 0) noexcept {
    reset(OpKind::recv_multishot, fd);
    aux_ = &ring;
    flags_ = static_cast<std::uint32_t>(msg_flags);
  }
  // `fd` must be a fresh non-blocking socket (socket.hpp open_socket). Use set_timeout() for a
  // connect timeout.
  void prep_connect(int fd, const SocketAddress& to) noexcept {
    reset(OpKind::connect, fd, const_cast<SocketAddress*>(&to));
  }
  void prep_shutdown(int fd, int how) noexcept {
    reset(OpKind::shutdown, fd);
    flags_ = static_cast<std::uint32_t>(how);
  }
  // A timer. Completes with Result(0) when `after` has elapsed (monotonic clock).
  void prep_timeout(std::chrono::nanoseconds after) noexcept {
    reset(OpKind::timeout);
    offset_ = static_cast<std::uint64_t>(after.count() > 0 ? after.count() : 0);
  }
  void prep_fsync(int fd, bool data_only = false) noexcept {
    reset(OpKind::fsync, fd);
    flags_ = data_only ? 1u : 0u;
  }
  // Result: the new fd. O_CLOEXEC is added.
  void prep_openat(int dir_fd, const char* path, int open_flags, mode_t mode = 0644) noexcept {
    reset(OpKind::openat, dir_fd, const_cast<char*>(path), mode);
    flags_ = static_cast<std::uint32_t>(open_flags);
  }
  // Closes `fd`. On epoll this also cancels (ECANCELED) ops still queued on the fd; on io_uring
  // such ops are not cancelled by close (the kernel holds the file) - cancel them first.
  void prep_close(int fd) noexcept { reset(OpKind::close, fd); }
  void prep_statx(int dir_fd, const char* path, int at_flags, unsigned mask,
                  struct statx* out) noexcept {
    reset(OpKind::statx, dir_fd, const_cast<char*>(path), mask);
    flags_ = static_cast<std::uint32_t>(at_flags);
    aux_ = out;
  }
  // splice(2): one of fd_in/fd_out must be a pipe. Offsets kCurrentPosition for pipes/sockets.
  // Like every op it waits for readiness: when a (non-blocking) end is not ready, the backend
  // waits for that side and splices again; it never completes with EAGAIN.
  void prep_splice(int fd_in, std::uint64_t off_in, int fd_out, std::uint64_t off_out,
                   std::size_t len, unsigned splice_flags = 0) noexcept {
    reset(OpKind::splice, fd_in, nullptr, len, off_in);
    fd2_ = fd_out;
    offset2_ = off_out;
    flags_ = splice_flags;
  }

  // Waits until `fd` is ready for `events` -- POLLIN or POLLOUT, one direction (both: EINVAL) --
  // and completes with the ready mask (Result::raw(), > 0; POLLERR/POLLHUP may be in it whatever
  // was asked) without transferring anything: for IO the caller performs itself, such as
  // sendfile(2) to a non-blocking socket or a library's own read. One-shot: resubmit to wait
  // again.
  void prep_poll(int fd, short events) noexcept {
    reset(OpKind::poll, fd);
    flags_ = static_cast<std::uint16_t>(events);
  }

  // --- request fields, read by the backends.
  // A poll asks for exactly one of POLLIN / POLLOUT (what both backends can wait for alike).
  [[nodiscard]] bool valid_poll() const noexcept {
    const std::uint32_t direction = flags_ & (POLLIN | POLLOUT);
    return direction == POLLIN || direction == POLLOUT;
  }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] void* addr() const noexcept { return addr_; }
  [[nodiscard]] std::uint32_t len() const noexcept { return len_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  [[nodiscard]] std::uint32_t flags() const noexcept { return flags_; }
  [[nodiscard]] std::int64_t timeout_ns() const noexcept { return timeout_ns_; }
  [[nodiscard]] bool is_multishot() const noexcept {
    return kind_ == OpKind::accept_multishot || kind_ == OpKind::recv_multishot;
  }

 private:
  friend class Loop;
  friend class detail::Backend;
  friend class detail::UringBackend;
  friend class detail::EpollBackend;
  friend struct detail::OpList;
  friend struct detail::FdOpIndex;
  friend class detail::TimerHeap;

  enum class State : std::uint8_t {
    idle,       // the caller's
    queued,     // backend-side software queue (io_uring backlog, epoll wait list / timer heap)
    in_flight,  // io_uring: an SQE carries this op's address
    done,       // result known, callback pending inside run_once
  };

  void reset(OpKind kind, int fd = -1, void* addr = nullptr, std::size_t len = 0,
             std::uint64_t offset = 0) noexcept {
    kind_ = kind;
    fd_ = fd;
    addr_ = addr;
    len_ = len > 0xffffffffu ? 0xffffffffu
                             : static_cast<std::uint32_t>(len);  // kernel caps IO at 2 GiB
    offset_ = offset;
    flags_ = 0;
    timeout_ns_ = 0;
  }

  // Request.
  Callback callback_ = nullptr;
  void* user_ = nullptr;
  void* addr_ = nullptr;
  void* aux_ = nullptr;        // statx buffer; recv_multishot: its BufferRing
  std::uint64_t offset_ = 0;   // file offset; timer duration in ns
  std::uint64_t offset2_ = 0;  // splice: fd_out offset
  std::int64_t timeout_ns_ = 0;
  int fd_ = -1;
  int fd2_ = -1;  // splice: fd_out
  std::uint32_t len_ = 0;
  std::uint32_t flags_ = 0;
  OpKind kind_ = OpKind::none;

  // Backend bookkeeping: meaningful only while busy().
  State state_ = State::idle;
  bool cancel_requested_ = false;  // tells a deadline's ECANCELED (-> ETIMEDOUT) from cancel()'s
  bool wants_write_ = false;       // epoll: queued on the fd's write side (else the read side)
  bool connecting_ = false;        // epoll: connect() returned EINPROGRESS, waiting for EPOLLOUT
  bool polling_ = false;  // io_uring: a splice waiting (POLL_ADD) for readiness before a retry
  std::uint16_t buffer_id_ = 0;   // the current completion's buffer (has_buffer_)
  std::uint32_t heap_index_ = 0;  // position in the backend's timer/deadline heap, 0 = not in it
  bool more_ = false;             // the current completion is not the last (see more())
  bool has_buffer_ = false;
  bool emulated_ = false;   // io_uring: multishot done as single-shot SQEs re-armed by the backend
  bool rearm_ = false;      // io_uring, emulated: between a CQE and its re-arm (no SQE in kernel)
  bool recv_wait_ = false;  // io_uring, emulated recv: the next/current SQE is a readiness poll
  bool deadline_passed_ = false;  // io_uring: the deadline cancelled it (ECANCELED -> ETIMEDOUT)
  Operation* next_ = nullptr;     // intrusive lists: io_uring backlog, epoll wait/done lists
  Operation* prev_ = nullptr;
  Operation* fd_next_ = nullptr;  // io_uring: ops submitted on the same fd (FdOpIndex), for
  Operation* fd_prev_ = nullptr;  // close_fd to cancel them one by one
  std::int64_t result_ = 0;       // result held between completion and delivery
  std::int64_t ts_[2] = {0, 0};   // io_uring: __kernel_timespec of a TIMEOUT op, read by the
                                  // kernel at submit; ts_[0] = absolute expiry (ns) while in a
                                  // backend's heap (epoll timers and deadlines, io_uring deadlines)
};

}  // namespace zap::zio
