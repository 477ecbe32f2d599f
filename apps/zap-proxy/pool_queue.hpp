// PoolQueue: clients waiting for room in a pool whose backends are all at their max_connections
// (HAProxy's queue and "timeout queue"), instead of being closed at once.
//
//   QueueWait w = co_await queue.wait_for_backend(pool, client, tried, 500ms, max_queue);
//   if (w.backend == nullptr) ... w.outcome: timed out, the line was full, nothing is up ...
//   ...
//   backend->active.fetch_sub(1); queue.slot_freed();   // a connection gave its backend back
//
// The line is served in order (HAProxy's queue): a connection that gives a backend back wakes
// the client at the head of the line, which takes the room. If that client cannot use it (with
// the "source" balance each client waits for its own backend), it hands the turn to the next in
// line, and so on, so that one client waiting for a busy backend does not hold up the others. A
// client that arrives while others wait joins the end of the line rather than take room that
// came back before them. Waiters also look again every 100 ms on their own (the head takes room
// it finds; the others only check their deadline and their client).
// The queue holds at most `max_waiting` clients (HAProxy's maxqueue; 0: no bound but the
// proxy's max_connections, under which a waiting client holds its socket and its place). A client
// that resets while it waits leaves the line at the waiter's next look (a wakeup, or 100 ms); one
// that closes its side (FIN) too when `abort_on_close` (HAProxy's "option abortonclose"), else
// it keeps its place, as a client that half-closes after its request may still want an answer. A
// pool's queue is shared by every version of the pool across reloads (by name), so that a
// connection of the old version makes room for the clients waiting on the new one. Thread-safety:
// every member from any worker; slot_freed() also from plain threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include <zap/zell/channel.hpp>
#include <zap/zell/task.hpp>
#include <zap/zio/address.hpp>

#include "backend_pool.hpp"

namespace zap::proxy {

struct QueueWait {
  Backend* backend = nullptr;  // picked (counted in its `active`), or null
  enum Outcome { kGot, kTimedOut, kQueueFull, kNothingUp, kClientLeft } outcome = kGot;
};

class PoolQueue {
 public:
  // `look_again`: how often a waiter looks at the pool without being woken (tests make it long,
  // to show the wakeups alone hand places over).
  explicit PoolQueue(std::chrono::milliseconds look_again = std::chrono::milliseconds(100))
      : look_again_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(look_again).count()) {}

  // Who waits: the client's address (for the source balance), and its socket (-1: not watched)
  // and whether its FIN ends the wait.
  struct Client {
    zio::SocketAddress address;
    int socket = -1;
    bool abort_on_close = false;
  };
  // A backend of `pool` picked for `client` (counted in its `active`, as pick() does), once one
  // has room; else why not: `timeout` passed first, `max_waiting` (> 0) clients were waiting
  // already, no backend that could take it is up any more (waiting would not help), or the
  // client left.
  zell::Task<QueueWait> wait_for_backend(BackendPool& pool, const Client& client,
                                         std::uint64_t& tried, std::chrono::milliseconds timeout,
                                         std::int64_t max_waiting = 0);
  // After a backend's active count went down: wakes a waiter, if there is one. Never throws.
  void slot_freed() noexcept;
  // Clients waiting now.
  std::int64_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  // A reload gave this line (kept by pool name) a new pool. Clients queued before it still wait
  // for a backend of the pool they came with; they no longer hold the ones behind them, who may
  // be clients of the new pool with room: a waiter of an older pool that finds no room passes
  // its turn on. Wakes the head, so that room the new pool has now is used. Never throws.
  void new_pool() noexcept;

 private:
  // One client in line; it lives in its wait_for_backend() frame, and is in line_ while it waits.
  struct Waiter {
    zell::Channel<char> wakeup{1};      // a token: your turn to look (one is enough)
    std::uint64_t pool_generation = 0;  // generation_ when it came (see new_pool())
  };

  // Wakes the head of the line (the one after `after`, if given and in line). Takes lock_.
  void wake_next(const Waiter* after = nullptr) noexcept;
  bool is_head(const Waiter& waiter);
  void leave_line(Waiter& waiter);

  std::mutex lock_;
  std::deque<Waiter*> line_;  // in the order they came (guarded by lock_)
  std::atomic<std::int64_t> waiting_{0};
  std::atomic<std::uint64_t> generation_{0};  // new_pool() calls (relaxed: a hint, see there)
  const std::int64_t look_again_ns_;
};

}  // namespace zap::proxy
