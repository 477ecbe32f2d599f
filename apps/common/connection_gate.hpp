// ConnectionGate: admits connections up to a limit and lets a draining thread wait for the last
// one to close.
//
//   if (auto ticket = gate.try_enter(counters)) serve(std::move(*ticket));   // else: refuse
//   ...
//   gate.begin_drain();
//   bool all_closed = gate.wait_idle(grace);                                  // main thread
//
// A Ticket is held by the connection for its life; dropping it leaves the gate and updates the
// worker's connections_open counter it was admitted under. The limit may change at any time
// (SIGHUP); connections over a lowered limit are not closed, new ones wait for room.
// Thread-safety: every member is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include <zap/zync/event.hpp>

#include "counters.hpp"

namespace zap::app {

class ConnectionGate {
 public:
  class Ticket {
   public:
    Ticket(ConnectionGate* gate, WorkerCounters* counters) noexcept
        : gate_(gate), counters_(counters) {}
    Ticket(Ticket&& other) noexcept
        : gate_(std::exchange(other.gate_, nullptr)),
          counters_(other.counters_),
          owed_(std::exchange(other.owed_, nullptr)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      settle();
      if (gate_ != nullptr) gate_->leave(*counters_);
    }

    WorkerCounters& counters() const noexcept { return *counters_; }

    // Near the descriptor limit the acceptor counts this connection in `owed` (connections
    // admitted that have not opened the descriptors they need besides their socket yet), so that
    // it leaves those descriptors to it; settle() -- or the end of the connection -- takes it out.
    void owe(std::atomic<std::int64_t>& owed) noexcept {
      settle();
      owed.fetch_add(1, std::memory_order_relaxed);  // a count, ordering nothing
      owed_ = &owed;
    }
    // The connection has opened what it needed (or gave up): nothing more is owed to it.
    void settle() noexcept {
      if (owed_ != nullptr) std::exchange(owed_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    ConnectionGate* gate_;
    WorkerCounters* counters_;
    std::atomic<std::int64_t>* owed_ = nullptr;
  };

  explicit ConnectionGate(std::int64_t limit) noexcept : limit_(limit) {}

  // A ticket if there is room; else counts the refusal in `counters` and returns nullopt.
  std::optional<Ticket> try_enter(WorkerCounters& counters) noexcept {
    // Relaxed: the count is a limit, not a lock; an overshoot by a racing acceptor is undone below.
    if (open_.fetch_add(1, std::memory_order_relaxed) >= limit_.load(std::memory_order_relaxed)) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      counters.add(counters.connections_rejected);
      return std::nullopt;
    }
    counters.add(counters.connections_open);
    counters.add(counters.connections_total);
    return Ticket(this, &counters);
  }

  void set_limit(std::int64_t limit) noexcept { limit_.store(limit, std::memory_order_relaxed); }
  std::int64_t limit() const noexcept { return limit_.load(std::memory_order_relaxed); }
  std::int64_t open() const noexcept { return open_.load(std::memory_order_seq_cst); }

  void begin_drain() noexcept { draining_.store(true, std::memory_order_seq_cst); }
  // True when no connection is open, false if `grace` passed first (or end_wait() was called).
  bool wait_idle(std::chrono::milliseconds grace) noexcept {
    if (open() == 0) return true;
    idle_.wait_for(grace);
    return open() == 0;
  }
  // Ends a current wait_idle() now (a second SIGTERM).
  void end_wait() noexcept { idle_.set(); }

 private:
  void leave(WorkerCounters& counters) noexcept {
    counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
    // SeqCst pairs with begin_drain()/open(): either the drainer sees zero, or we see draining.
    if (open_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        draining_.load(std::memory_order_seq_cst)) {
      idle_.set();
    }
  }

  std::atomic<std::int64_t> open_{0};
  std::atomic<std::int64_t> limit_;
  std::atomic<bool> draining_{false};
  zync::Event idle_;
};

}  // namespace zap::app
