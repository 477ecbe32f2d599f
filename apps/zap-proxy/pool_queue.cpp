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

}  // namespace

zell::Task<void> PoolQueue::next_wakeup() { (void)co_await wakeups_.recv(); }

zell::Task<QueueWait> PoolQueue::wait_for_backend(BackendPool& pool, const Client& client,
                                                  std::uint64_t& tried,
                                                  std::chrono::milliseconds timeout,
                                                  std::int64_t max_waiting) {
  const std::int64_t deadline_ns =
      monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  // In line, unless the line is full (a compare-and-swap: the bound holds across workers).
  std::int64_t ahead = waiting_.load(std::memory_order_seq_cst);
  do {
    if (max_waiting > 0 && ahead >= max_waiting) {
      Backend* backend =
          pool.pick(client.address, tried);  // (a last look: room may have come back)
      co_return QueueWait{backend, backend != nullptr ? QueueWait::kGot
                                   : pool.any_up()    ? QueueWait::kQueueFull
                                                      : QueueWait::kNothingUp};
    }
  } while (!waiting_.compare_exchange_weak(ahead, ahead + 1, std::memory_order_seq_cst));
  struct Leave {  // also when the task is cancelled or destroyed while it waits
    std::atomic<std::int64_t>& waiting;
    ~Leave() { waiting.fetch_sub(1, std::memory_order_relaxed); }
  } leave{waiting_};
  int quick_retries = 0;
  for (;;) {
    // No lost wakeup (every access to waiting_ and releases_ is seq_cst): either slot_freed()
    // reads waiting_ after our increment, and sends a token; or its releases_ increment comes
    // before this load in the single total order, so this load synchronizes with it and the
    // pick below sees the `active` decrement that preceded it.
    (void)releases_.load(std::memory_order_seq_cst);
    if (Backend* backend = pool.pick(client.address, tried))
      co_return QueueWait{backend, QueueWait::kGot};
    // Down, not full: no connection that ends will make room.
    if (!pool.any_up()) co_return QueueWait{nullptr, QueueWait::kNothingUp};
    if (client_left(client)) co_return QueueWait{nullptr, QueueWait::kClientLeft};
    const std::int64_t left = deadline_ns - monotonic_ns();
    if (left <= 0) co_return QueueWait{nullptr, QueueWait::kTimedOut};
    // Room that came back since the pick (a connection ended in between): at once, a few times,
    // rather than after a wakeup that went to the connection's own waiter.
    if (!pool.saturated() && ++quick_retries <= 3) continue;
    quick_retries = 0;
    (void)co_await zell::timeout(std::chrono::nanoseconds(std::min(left, look_again_ns_)),
                                 next_wakeup());
  }
}

void PoolQueue::slot_freed() noexcept {
  // Publishes the caller's decrement of `active` to a waiter about to pick (see
  // wait_for_backend()), then looks for waiters to wake.
  releases_.fetch_add(1, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst) == 0) return;
  char token = 0;
  try {
    (void)wakeups_.try_send(token);
  } catch (...) {
    // out of memory for the token: the waiters look again on their own within 100 ms
  }
}

}  // namespace zap::proxy
