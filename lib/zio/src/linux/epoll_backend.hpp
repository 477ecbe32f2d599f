// epoll backend: readiness turned into completions. An op first tries its non-blocking syscall
// when its fd is believed ready; on EAGAIN it waits in the fd's read or write FIFO until epoll
// reports readiness, then the syscall runs again (a splice waits on whichever of its two fds is
// not ready). Each fd is registered edge-triggered for both directions
// (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI|EPOLLET) once per file; an op that starts waiting on an fd
// that had no waiting op has its registration checked (one epoll_ctl) only if it is still waiting
// kVerifyAfterNs later - see FdState for why. Regular
// files (which epoll refuses with EPERM) and the ops that have no readiness (open, statx, fsync,
// shutdown, close) run inline, blocking, inside submit(); their callbacks still run in run_once.
// Multishot accept/recv stay in the fd's readers FIFO and call back once per connection/chunk from
// the drain, still inside run_once (epoll_multishot.cpp).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "backend.hpp"
#include "linux/timer_heap.hpp"

namespace zap::zio::detail {

class EpollBackend final : public Backend {
 public:
  EpollBackend(int epoll_fd, int wake_fd, unsigned max_events);
  ~EpollBackend() override;

  void submit(Operation& op) noexcept override;
  void cancel(Operation& op) noexcept override;
  void close_fd(int fd) noexcept override;
  std::size_t run_once(std::int64_t timeout_ns) noexcept override;

 private:
  // Readiness knowledge about one fd. With edge triggering a direction is "ready" from an event
  // until a syscall says EAGAIN (or a short stream read/write says the buffer was drained/filled).
  //
  // The rule that keeps this sound when the fd number is closed and reused behind the loop's back
  // (UniqueFd, ::close): everything here is a hint. A file's first wait registers it (ADD). When
  // an op of a registered fd starts waiting with no other op waiting on that fd (idle ->
  // waiting), or on a guess that its side is drained, the registration may be stale: the file
  // may have been closed and the number given to another, which epoll does not watch. arm()
  // checks it with EPOLL_CTL_MOD, which succeeds only for the very file registered (epoll keys
  // on the open file, and forgets it when it is closed) and re-reports its current readiness as
  // a fresh edge; ENOENT means a different file now owns the number: the hints are dropped and
  // it is added. That check is a system call, and an op that waits briefly (a request/response
  // connection under load: the next request is an edge away) does not need it: the edge comes
  // from the registered file, and an op that completes read the current file by its own
  // syscall. So the check is deferred (schedule_check): it runs kVerifyAfterNs after the wait
  // began if an op of the fd is still waiting then; a pending check is never postponed by later
  // waits. A stale registration then delays an op by that much once, instead of costing every
  // wait a syscall; a stale "ready" costs one EAGAIN. Closing through the loop (close_fd,
  // prep_close), accepting (perform) and connecting (submit) start the number afresh, so only a
  // close behind the loop's back pays the delay. So does a wrong guess that a side was drained
  // (note_short_transfer; rare once urgent data is known by EPOLLPRI: e.g. a Unix stream read
  // that stopped where passed descriptors begin): the check's re-arm reports the data that was
  // left. Splices re-arm at once (see park()).
  struct FdState {
    OpList readers;
    OpList writers;
    bool registered = false;
    bool unpollable = false;  // epoll said EPERM (regular file): always perform inline
    bool read_ready = false;  // unknown until the first event
    bool write_ready = true;  // a fresh socket can usually take data: try before waiting
    // read_ready/write_ready were cleared by note_short_transfer's guess, not by an EAGAIN: the
    // guess can be wrong (a read stops at TCP's urgent mark, or where passed descriptors begin,
    // with more data queued), and no new edge comes for data already there, so an op parking on
    // that side is checked (see park()).
    bool read_guessed = false;
    bool write_guessed = false;
    bool hung_up = false;  // RDHUP/HUP/ERR seen: reads no longer wait; no short-read shortcut
    // EPOLLPRI seen: the peer sends TCP urgent data, where a read stops at the mark with data
    // still queued behind it, so a short read no longer predicts an empty socket.
    bool urgent = false;
    std::int8_t stream = -1;  // SO_TYPE is SOCK_STREAM: 1, another type: 0, not asked yet: -1
    // Splices that use this fd but wait in the other fd's FIFO: reset_fd must find them too.
    std::uint32_t splices_waiting_elsewhere = 0;
    // The registration check pending for this fd (PendingCheck::ticket), 0 if none. A queued
    // check whose ticket does not match was dropped (nothing waited at its time) or reset.
    std::uint32_t check_ticket = 0;
  };
  // A deferred registration check: due at `due` (monotonic ns) if fds_[fd].check_ticket is still
  // `ticket` and an op still waits on the fd.
  struct PendingCheck {
    int fd;
    std::uint32_t ticket;
    std::int64_t due;
  };
  // How long an op may wait on an fd before its registration is checked: a request/response
  // wait under load is much shorter (no syscall), an idle connection pays one check per wait,
  // and a number reused behind the loop's back is served at most this late.
  static constexpr std::int64_t kVerifyAfterNs = 10'000'000;

  // Runs op's syscall without blocking (except on regular files). -EAGAIN: not ready;
  // kFinalEagain: the syscall's own EAGAIN is the op's result (complete() reports it as -EAGAIN).
  std::int64_t perform(Operation& op) noexcept;
  static constexpr std::int64_t kFinalEagain = -(1 << 20);  // no errno is that large
  FdState& state(int fd);
  void reset_fd(int fd) noexcept;  // a new fd number: forget what an old file taught us
  // Fails (ECANCELED) every splice that waits on another fd but uses `fd` as its other side.
  void cancel_splices_using(int fd) noexcept;
  // Takes op out of the FIFO it waits in (see FdState::splices_waiting_elsewhere).
  void leave_fifo(Operation& op) noexcept;
  // (Re)registers fd for an op about to wait on it from idle (see FdState); 0 or an errno.
  int arm(int fd, FdState& s) noexcept;
  // Puts op in fd's read or write FIFO: registers the fd on its first wait, and schedules a
  // check of its registration when no op waited on it (or this side waits on a guess).
  void park(Operation& op, int fd, bool write) noexcept;
  void schedule_check(int fd, FdState& s) noexcept;
  // Runs the checks due at `now` (arm() for an fd that still has waiting ops); true if any ran.
  bool run_due_checks(std::int64_t now) noexcept;
  // epoll_pwait2 (or epoll_wait) into events_; < 0: EINTR. timeout_ns < 0: no limit.
  int wait_for_events(std::int64_t timeout_ns) noexcept;
  // Ends every op waiting on fd after arm() failed with `err` (EPERM: a regular file now owns
  // the number, so they run as blocking IO).
  void fail_waiting(int fd, int err) noexcept;
  // The earliest due check that still matters, or INT64_MAX; drops, at the head, those whose fd no
  // longer has a waiting op.
  std::int64_t next_check_due() noexcept;
  void drain(int fd, bool write) noexcept;
  // Multishot ops (epoll_multishot.cpp): they wait in the fd's readers FIFO like a recv; on
  // readiness drain() lets the op at the head accept/recv until EAGAIN, calling back inline
  // (inside run_once) with more() for each connection/chunk.
  void submit_multishot(Operation& op) noexcept;
  // True when the op has ended (or left the FIFO), false when the fd must wait for an edge.
  bool drain_multishot(int fd, Operation& op) noexcept;
  static void note_short_transfer(const Operation& op, std::int64_t res, FdState& s) noexcept;
  void complete(Operation& op, std::int64_t res) noexcept;
  void unlink(Operation& op) noexcept;  // from its fd FIFO and the timer heap
  void expire_timers(std::int64_t now) noexcept;
  static bool is_write_side(OpKind kind) noexcept;
  static int wait_fd(const Operation& op) noexcept;
  static int splice_other_fd(const Operation& op) noexcept;  // the fd a splice does not wait on

  int epoll_fd_;
  std::vector<FdState> fds_;  // indexed by fd; grows to the highest fd seen, never shrinks
  std::vector<epoll_event> events_;
  TimerHeap timers_;
  OpList done_;                       // result known, callback pending
  std::size_t inline_delivered_ = 0;  // multishot callbacks run during this turn's drains
  // Deferred registration checks, FIFO by due time (all use the same delay): a ring buffer that
  // grows by doubling and is never shrunk, so a steady state allocates nothing.
  std::vector<PendingCheck> checks_;
  std::size_t checks_head_ = 0;
  std::size_t checks_count_ = 0;
  std::uint32_t next_ticket_ = 1;
  // The clock at the end of the last epoll wait: what a wait scheduled during this turn (or from
  // outside run_once) counts from. Older than now, so a check can only come early, never late.
  std::int64_t turn_now_ = 0;
  bool has_pwait2_ = true;
};

}  // namespace zap::zio::detail
