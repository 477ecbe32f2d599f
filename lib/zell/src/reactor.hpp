// Reactor: how a worker sleeps and how IO reaches it -- the narrow interface between the
// scheduler and zio. A worker calls poll() when it has nothing to run (and, briefly, every few
// dozen tasks to reap IO completions); anyone calls wake() to end a current or the next poll().
//
// Two implementations: ParkerReactor (a futex; no IO) and ZioReactor (a zio::Loop, so that IO
// completions and cross-worker wake-ups both end the sleep).
#pragma once

#include <chrono>
#include <memory>
#include <system_error>

#include "zap/zell/config.hpp"

namespace zap::zio {
class Loop;
}

namespace zap::zell::detail {

class Reactor {
 public:
  virtual ~Reactor() = default;
  // Waits up to `timeout` (negative: no limit; zero: do not block) for IO completions or wake(),
  // and runs the IO callbacks that are due. Owner thread only.
  virtual void poll(std::chrono::nanoseconds timeout) noexcept = 0;
  // Ends a current or the next poll() promptly. Any thread.
  virtual void wake() noexcept = 0;
  // Shutdown: closes the IO loop (in-flight operations are abandoned and cancelled in the
  // kernel); wake() keeps working, poll() must not be called again.
  virtual void close() noexcept {}
  // The IO loop, or nullptr when this reactor does no IO.
  virtual zio::Loop* loop() noexcept { return nullptr; }
  // True when poll(0) with nothing to submit and nothing finished costs no syscall (io_uring:
  // completions and pending kernel task work show in shared memory), so a spinning worker may
  // call it on every round; false when each poll(0) is a syscall (epoll) or pointless (futex).
  virtual bool polls_cheaply() const noexcept { return false; }
};

// The reactor for `backend`; nullptr with `ec` set if it cannot be created.
std::unique_ptr<Reactor> make_reactor(IoBackend backend, std::error_code& ec);

}  // namespace zap::zell::detail
