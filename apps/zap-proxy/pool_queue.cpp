#include "pool_queue.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include <zap/zell/timeout.hpp>

namespace zap::proxy {

namespace {

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Whether a waiting client has left: reset (POLLERR/POLLHUP), or -- when `abort_on_close` --
// closed its side (POLLRDHUP). poll() sees both behind bytes the client sent first and nobody
// read yet (a request waiting for its backend), where a peeking recv() would return the bytes.
bool client_left(const PoolQueue::Client& client) noexcept {
  if (client.socket < 0) return false;
  pollfd watched{client.socket, POLLRDHUP, 0};
  if (::poll(&watched, 1, 0) <= 0) return false;
  if ((watched.revents & (POLLERR | POLLHUP)) != 0) return true;
  return (watched.revents & POLLRDHUP) != 0 && client.abort_on_close;
}

// A waiter's next token (its turn), as a task for zell::timeout().
zell::Task<void> next_token(zell::Channel<char>& wakeup) { (void)co_await wakeup.recv(); }

}  // namespace

zell::Task<QueueWait> PoolQueue::wait_for_backend(BackendPool& pool, const Client& client,
                                                  std::uint64_t& tried,
                                                  std::chrono::milliseconds timeout,
                                                  std::int64_t max_waiting) {
  const std::int64_t deadline_ns =
      monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  // In line, unless the line is full (a compare-and-swap: the bound holds across workers).
  std::int64_t ahead = waiting_.load(std::memory_order_relaxed);
  do {
    if (max_waiting > 0 && ahead >= max_waiting) {
      Backend* backend =
          pool.pick(client.address, tried);  // (a last look: room may have come back)
      co_return QueueWait{backend, backend != nullptr ? QueueWait::kGot
                                   : pool.any_up()    ? QueueWait::kQueueFull
                                                      : QueueWait::kNothingUp};
    }
  } while (!waiting_.compare_exchange_weak(ahead, ahead + 1, std::memory_order_relaxed));
  Waiter me;
  {
    const std::lock_guard guard(lock_);
    me.pool_generation = generation_.load(std::memory_order_relaxed);
    line_.push_back(&me);
  }
  // Out of line however the wait ends -- also when the task is cancelled or destroyed while it
  // waits; room it did not take goes on to the (new) head, so that no turn is lost.
  struct Leave {
    PoolQueue& queue;
    BackendPool& pool;
    Waiter& waiter;
    ~Leave() {
      queue.leave_line(waiter);
      if (!pool.saturated()) queue.wake_next();
      queue.waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
  } leave{*this, pool, me};
  // The head looks at once. Another client that finds room on arrival (not its to take: the
  // line comes first) starts a turn down the line, which ends with it if no one before it can
  // use the room.
  bool my_turn = is_head(me);
  if (!my_turn && !pool.saturated()) wake_next();
  for (;;) {
    if (my_turn) {
      // Every token is sent under lock_ after the `active` decrement that made the room, and
      // received through the channel's lock: this pick sees that room.
      if (Backend* backend = pool.pick(client.address, tried)) {
        leave_line(me);  // (before waking the next, who must find the line without us)
        co_return QueueWait{backend, QueueWait::kGot};  // (Leave passes on any room left)
      }
      // Room, but not for this client (with "source", its own backend is full): the next one.
      // So too for a client of a pool a reload replaced: those behind may have room in theirs.
      if (!pool.saturated() || me.pool_generation != generation_.load(std::memory_order_relaxed)) {
        wake_next(&me);
      }
    }
    // Down, not full: no connection that ends will make room.
    if (!pool.any_up()) co_return QueueWait{nullptr, QueueWait::kNothingUp};
    if (client_left(client)) co_return QueueWait{nullptr, QueueWait::kClientLeft};
    const std::int64_t left = deadline_ns - monotonic_ns();
    if (left <= 0) co_return QueueWait{nullptr, QueueWait::kTimedOut};
    const bool woken = co_await zell::timeout(
        std::chrono::nanoseconds(std::min(left, look_again_ns_)), next_token(me.wakeup));
    // Without a token only the head looks (room a wakeup missed); the others keep their place.
    my_turn = woken || is_head(me);
  }
}

void PoolQueue::slot_freed() noexcept {
  // The caller decremented `active` before this: wake_next() takes lock_ after it, and the
  // woken waiter's pick sees it (see wait_for_backend()).
  if (waiting_.load(std::memory_order_relaxed) == 0) {
    // Nobody counted yet; one about to join takes lock_ after us and, at the head, looks first.
    const std::lock_guard guard(lock_);
    if (line_.empty()) return;
  }
  wake_next();
}

void PoolQueue::new_pool() noexcept {
  {
    // Under lock_: a waiter that joins after this sees the new generation (and is of the new
    // pool); one before it, the old.
    const std::lock_guard guard(lock_);
    generation_.fetch_add(1, std::memory_order_relaxed);
  }
  wake_next();
}

void PoolQueue::wake_next(const Waiter* after) noexcept {
  const std::lock_guard guard(lock_);
  auto next = line_.begin();
  if (after != nullptr) {
    next = std::find(line_.begin(), line_.end(), after);
    if (next != line_.end()) ++next;
  }
  if (next == line_.end()) return;  // the turn went down the whole line: no one can use it
  char token = 0;
  try {
    (void)(*next)->wakeup.try_send(token);  // (full: woken already)
  } catch (...) {
    // out of memory for the token: the head looks again on its own within 100 ms
  }
}

bool PoolQueue::is_head(const Waiter& waiter) {
  const std::lock_guard guard(lock_);
  return !line_.empty() && line_.front() == &waiter;
}

void PoolQueue::leave_line(Waiter& waiter) {
  const std::lock_guard guard(lock_);
  const auto at = std::find(line_.begin(), line_.end(), &waiter);
  if (at != line_.end()) line_.erase(at);
}

}  // namespace zap::proxy
