// Idle: the sleepers list and the searching/unparked counts.
#include "idle.hpp"

#include <algorithm>
#include <mutex>

#include "fence.hpp"
#include "worker.hpp"

namespace zap::zell::detail {

bool Idle::park(Worker* worker, bool was_searching) noexcept {
  std::lock_guard guard(lock_);
  const std::uint32_t dec = (1u << kUnparkedShift) + (was_searching ? 1u : 0u);
  const std::uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);  // seq_cst: class
  sleepers_.push_back(worker);
  worker->in_sleepers = true;
  worker->woken_searching = false;
  // Relaxed: a hint read by other nodes' workers; the lock orders it with the list.
  node_sleepers_[worker->node()].fetch_add(1, std::memory_order_relaxed);
  return was_searching && searching(prev) == 1;
}

bool Idle::unpark(Worker* worker) noexcept {
  std::lock_guard guard(lock_);
  if (worker->in_sleepers) {
    // Woken by a timer, IO or a spurious wake-up: leave the list as a non-searcher.
    sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), worker));
    worker->in_sleepers = false;
    node_sleepers_[worker->node()].fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
    state_.fetch_add(1u << kUnparkedShift, std::memory_order_seq_cst);       // seq_cst: class
    return false;
  }
  const bool searching_now = worker->woken_searching;
  worker->woken_searching = false;
  return searching_now;
}

Worker* Idle::take_sleeper(int node) noexcept {
  if (sleepers_.empty()) return nullptr;
  auto it = sleepers_.end() - 1;
  if (node >= 0) {
    auto same = std::find_if(sleepers_.rbegin(), sleepers_.rend(), [node](Worker* w) {
      return w->node() == static_cast<unsigned>(node);
    });
    if (same != sleepers_.rend()) it = same.base() - 1;
  }
  Worker* worker = *it;
  sleepers_.erase(it);
  worker->in_sleepers = false;
  node_sleepers_[worker->node()].fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
  return worker;
}

void Idle::notify(int node) noexcept {
  // The caller just published work (a deque push, an injection): order that before our look at
  // the sleepers, against park()'s fence between its registration and its re-check of the queues.
  store_load_fence();
  std::uint32_t state = state_.load(std::memory_order_seq_cst);  // seq_cst: see class
  if (searching(state) != 0 || unparked(state) >= workers_) return;
  Worker* worker = nullptr;
  {
    std::lock_guard guard(lock_);
    state = state_.load(std::memory_order_seq_cst);  // seq_cst: see class
    if (searching(state) != 0) return;
    worker = take_sleeper(node);
    if (worker == nullptr) return;
    worker->woken_searching = true;
    state_.fetch_add((1u << kUnparkedShift) + 1u, std::memory_order_seq_cst);  // seq_cst: class
  }
  worker->reactor().wake();
}

void Idle::wake(Worker* worker) noexcept {
  {
    std::lock_guard guard(lock_);
    if (worker->in_sleepers) {
      sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), worker));
      worker->in_sleepers = false;
      node_sleepers_[worker->node()].fetch_sub(1, std::memory_order_relaxed);  // relaxed: hint
      state_.fetch_add(1u << kUnparkedShift, std::memory_order_seq_cst);       // seq_cst: class
    }
  }
  worker->reactor().wake();
}

bool Idle::wake_one_of_node(unsigned node) noexcept {
  Worker* worker = nullptr;
  {
    std::lock_guard guard(lock_);
    auto it = std::find_if(sleepers_.rbegin(), sleepers_.rend(),
                           [node](Worker* w) { return w->node() == node; });
    if (it == sleepers_.rend()) return false;
    worker = *it;
    sleepers_.erase(it.base() - 1);
    worker->in_sleepers = false;
    node_sleepers_[node].fetch_sub(1, std::memory_order_relaxed);       // relaxed: a hint
    state_.fetch_add(1u << kUnparkedShift, std::memory_order_seq_cst);  // seq_cst: see class
  }
  worker->reactor().wake();
  return true;
}

void Idle::wake_all() noexcept {
  std::vector<Worker*> all;
  {
    std::lock_guard guard(lock_);
    all.swap(sleepers_);
    for (Worker* worker : all) {
      worker->in_sleepers = false;
      node_sleepers_[worker->node()].fetch_sub(1, std::memory_order_relaxed);  // relaxed: hint
      state_.fetch_add(1u << kUnparkedShift, std::memory_order_seq_cst);       // seq_cst: class
    }
  }
  for (Worker* worker : all) worker->reactor().wake();
}

bool Idle::node_has_sleepers(unsigned node) const noexcept {
  return node_sleepers_[node].load(std::memory_order_relaxed) > 0;  // relaxed: a hint
}

}  // namespace zap::zell::detail
