// Loop: a per-thread completion loop over io_uring (default) or epoll (fallback).
//
// Submit caller-owned Operations, then turn the loop; each turn makes one kernel call that both
// submits every operation prepared since the last turn and reaps every completion, then runs the
// callbacks. The backend is chosen at creation: io_uring unless io_uring_setup fails (ENOSYS,
// EPERM under Docker's default seccomp profile, kernel.io_uring_disabled) or the environment says
// ZAP_IO_BACKEND=epoll; LoopOptions::backend overrides both. backend_reason() is one log-able line
// saying which backend and why (zio does not log: lib/ must not depend on a logging library),
// including which multishot features run in the kernel and which are emulated (also features()).
//
//   std::error_code ec;
//   auto loop = zio::Loop::create({}, ec);
//   if (!loop) return ec;
//   std::fprintf(stderr, "%.*s\n", int(loop->backend_reason().size()),
//   loop->backend_reason().data()); zio::Operation timer([](zio::Operation& op, zio::Result) {
//     static_cast<zio::Loop*>(op.user())->stop();
//   }, loop.get());
//   timer.prep_timeout(std::chrono::milliseconds(10));
//   loop->submit(timer);
//   loop->run();  // returns after stop()
//
// Ownership: an Operation is the caller's; between submit() and the start of its callback the
// Loop may write to it and the kernel may read or write its buffers. Destroying a Loop with
// operations in flight abandons them: no callbacks run, and ~Loop returns only after the kernel
// has let go of them (io_uring: cancelled and reaped; on kernels before 5.19, which cannot cancel
// everything at once, they are left to the kernel's own teardown), so their buffers may be freed
// right after, and the ops prepared and submitted again (to another Loop). An abandoned op still
// says busy() until then.
//
// Closing an fd with operations in flight: on io_uring a socket op keeps the file alive and
// continues; on epoll the registration disappears and the op would never complete. Portable code
// cancels first: Loop::close_fd() (or prep_close) cancels every op on the fd, then closes it.
// An fd with no op in flight may be closed behind the loop's back (::close, UniqueFd) and its
// number reused; on epoll, an op that then waits on the new file may wait up to 10 ms longer
// (the backend checks a registration only once a wait lasts that long: a wait costs no
// epoll_ctl otherwise), so closing through the loop is also the faster way.
//
// Thread-safety: a Loop is single-threaded - submit, cancel, run_once, run and close_fd must be
// called from the thread that runs it. wake() and stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

#include "zap/zio/buffer_ring.hpp"
#include "zap/zio/operation.hpp"

namespace zap::zio {

namespace detail {
class Backend;
}

enum class BackendKind : unsigned char { automatic, io_uring, epoll };

[[nodiscard]] std::string_view to_string(BackendKind kind) noexcept;

struct LoopOptions {
  // automatic: io_uring if it works, else epoll; ZAP_IO_BACKEND=epoll|io_uring picks when this is
  // automatic. An explicit io_uring fails creation if io_uring is unavailable (no silent fallback).
  BackendKind backend = BackendKind::automatic;
  // io_uring: submission-queue size (completion queue is twice that). epoll: events per wait.
  unsigned entries = 256;
  // io_uring: a kernel thread polls the submission queue (IORING_SETUP_SQPOLL), saving the
  // submit syscall at the cost of a busy CPU while active.
  bool sqpoll = false;
  unsigned sqpoll_idle_ms = 100;
  // io_uring: use the kernel's multishot accept/recv and buffer rings where the kernel has them.
  // false forces the emulation (single-shot ops re-armed by the backend; same callbacks), which is
  // what kernels before 5.19 (accept) / 6.0 (recv) get anyway. No effect on epoll.
  bool kernel_multishot = true;
  // io_uring: opcodes (IORING_OP_*) to treat as unsupported although the kernel has them, as on an
  // older kernel: the backend takes the same fallback it would there. For tests of those paths,
  // and to route around an opcode that misbehaves on a particular kernel. No effect on epoll.
  std::vector<int> io_uring_disabled_opcodes;
};

// What the kernel does natively for this loop (see Loop::features()). false = zio emulates it
// with the same semantics; always false on epoll.
struct LoopFeatures {
  bool multishot_accept = false;  // IORING_ACCEPT_MULTISHOT (5.19)
  bool multishot_recv = false;    // IORING_RECV_MULTISHOT over a kernel buffer ring (6.0)
};

class Loop {
 public:
  static constexpr std::chrono::nanoseconds kForever{-1};

  // Creates a loop, or returns nullptr and sets `ec`.
  [[nodiscard]] static std::unique_ptr<Loop> create(const LoopOptions& options,
                                                    std::error_code& ec);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Queues `op`; the kernel sees it at the next turn. Never fails and never calls back inline:
  // every outcome, including "unsupported" or a bad fd, arrives through the callback.
  void submit(Operation& op) noexcept;
  // Asks for `op` to finish early. It still completes exactly once, through its callback: with
  // ECANCELED, or with its real result if that raced ahead. No effect on an idle op.
  void cancel(Operation& op) noexcept;
  // Cancels every operation on `fd` (each completes with ECANCELED, also one with a deadline, and a
  // multishot op with its final completion) and closes it. The ops still complete later, through
  // their callbacks; the fd number may be reused at once (io_uring with SQPOLL: once the kernel
  // has consumed the close, which is queued behind the ops that name the fd).
  void close_fd(int fd) noexcept;

  // Registers `ring` (buffer_ring.hpp) under buffer group `group` for prep_recv_multishot. Not on
  // the IO path: it allocates the ring's bookkeeping (and on io_uring maps the kernel ring).
  // EINVAL: count not a power of two in [1, 32768], size 0, no memory; EBUSY: already registered;
  // EEXIST (io_uring): the group is taken.
  [[nodiscard]] std::error_code register_buffer_ring(BufferRing& ring,
                                                     unsigned short group) noexcept;
  // Precondition: no op using `ring` is busy. ~BufferRing does this too. Ids still held by the
  // caller need no recycle afterwards (recycle() is then a no-op).
  void unregister_buffer_ring(BufferRing& ring) noexcept;

  // One turn: submits what is queued, waits up to `timeout` for at least one completion (kForever:
  // no limit; 0: do not block), runs the callbacks. Returns the number of callbacks run; also
  // returns after wake() (possibly 0) or an interrupting signal.
  std::size_t run_once(std::chrono::nanoseconds timeout = kForever) noexcept;
  // Turns until stop(); then clears the stop request and returns.
  void run() noexcept;
  // Makes run() return after the current turn. Any thread.
  void stop() noexcept;
  // Makes a current or the next run_once() return promptly. Any thread; async-signal-safe. When a
  // wake is already pending it costs one atomic exchange and no syscall.
  void wake() noexcept;

  // Operations submitted whose callbacks have not started.
  [[nodiscard]] std::size_t pending() const noexcept;
  [[nodiscard]] BackendKind backend() const noexcept;
  [[nodiscard]] std::string_view backend_reason() const noexcept;
  [[nodiscard]] LoopFeatures features() const noexcept;

 private:
  explicit Loop(std::unique_ptr<detail::Backend> backend) noexcept;
  std::unique_ptr<detail::Backend> backend_;
};

}  // namespace zap::zio
