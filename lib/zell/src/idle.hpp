// Idle: which workers sleep and how many search for work -- Tokio's "num_searching" scheme.
//
// At most half of the workers search (steal) at once; a worker that finds work while it was the
// last searcher wakes one sleeper, so there is always a searcher while work may be waiting, and
// new work wakes at most one sleeper (no thundering herd). `state_` packs the number of unparked
// workers (high half) and of searching workers (low half); SeqCst throughout, so that a pusher's
// "is anyone searching / parked?" load and a parking worker's re-check of the queues cannot both
// miss each other (each side's RMW/load is ordered after its own queue access by a seq_cst fence).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "zap/zync/mutex.hpp"

namespace zap::zell::detail {

class Worker;

class Idle {
 public:
  explicit Idle(std::uint32_t workers) : workers_(workers), state_(workers << kUnparkedShift) {
    sleepers_.reserve(workers);
  }

  // Becomes a searcher unless half of the workers already search.
  bool try_begin_search() noexcept {
    const std::uint32_t state = state_.load(std::memory_order_seq_cst);  // seq_cst: see class
    if (2 * searching(state) >= workers_) return false;
    state_.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: see class
    return true;
  }
  // Stops searching; true if this was the last searcher.
  bool end_search() noexcept {
    return searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1;  // seq_cst: see class
  }

  // Registers `worker` as asleep; true if it was the last searcher.
  bool park(Worker* worker, bool was_searching) noexcept;
  // The worker woke up; true if it was woken as a searcher (by notify()).
  bool unpark(Worker* worker) noexcept;
  // Wakes one sleeper (preferably on `node`) as a searcher, unless someone searches already or
  // nobody sleeps.
  void notify(int node) noexcept;
  // Wakes `worker` if it sleeps (for work only it can run).
  void wake(Worker* worker) noexcept;
  // Wakes one sleeper of `node` (not as a searcher); false if none sleeps there.
  bool wake_one_of_node(unsigned node) noexcept;
  // Wakes every sleeper (shutdown).
  void wake_all() noexcept;
  // Workers of `node` asleep now (a hint).
  bool node_has_sleepers(unsigned node) const noexcept;

  void set_node_count(unsigned nodes) { node_sleepers_ = std::vector<std::atomic<int>>(nodes); }

 private:
  static constexpr std::uint32_t kUnparkedShift = 16;
  static constexpr std::uint32_t kSearchingMask = (1u << kUnparkedShift) - 1;
  static std::uint32_t searching(std::uint32_t state) noexcept { return state & kSearchingMask; }
  static std::uint32_t unparked(std::uint32_t state) noexcept { return state >> kUnparkedShift; }
  Worker* take_sleeper(int node) noexcept;  // lock_ held

  const std::uint32_t workers_;
  std::atomic<std::uint32_t> state_;
  zync::Mutex lock_;
  std::vector<Worker*> sleepers_;                // guarded by lock_
  std::vector<std::atomic<int>> node_sleepers_;  // written under lock_; read as hints
};

}  // namespace zap::zell::detail
