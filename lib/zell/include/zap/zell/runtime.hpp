// Runtime: a set of pinned worker threads, grouped by NUMA node, that run Tasks.
//
//   zap::zell::RuntimeConfig config;             // defaults: one worker per CPU, pinned
//   zap::zell::Runtime runtime(config);          // throws std::system_error if it cannot start
//   int v = runtime.block_on(compute());         // run a task, block this thread for its result
//   auto h = runtime.spawn(serve());             // fire and (maybe) join later: h.get()
//   runtime.spawn_on_node(1, work());            // runs on node 1's workers while they are free
//   auto shards = runtime.spawn_per_worker([](std::size_t w) { return shard(w); });
//   runtime.shutdown();                          // also done by the destructor
//
// Inside a task, the free functions zap::zell::spawn(), spawn_on_node(), spawn_on_worker(),
// spawn_local() and current_worker_index() act on the runtime running the caller.
//
// Shard-per-core: spawn_on_worker() / spawn_per_worker() pin a task to one worker for its whole
// life (it is never stolen), as wanted by SO_REUSEPORT servers whose connections must not
// migrate; inside a shard, spawn_local() pins the per-connection tasks to the same worker
// (spawn() would start them there too, but they could be stolen).
//
// Shutdown stops the workers (after the task each is running suspends), joins them, closes the
// IO loops, then destroys every task that has not finished -- their destructors run, JoinHandles
// report TaskCancelled -- and frees everything. Tasks still running at shutdown therefore never
// resume. Tasks must not outlive shutdown's caller's use of shared objects they point at.
//
// Thread-safety: spawn*, counters() and block_on() may be called from any thread (block_on()
// and JoinHandle::get() not from a worker). shutdown() and the destructor from one thread, not
// a worker.
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "zap/zell/config.hpp"
#include "zap/zell/counters.hpp"
#include "zap/zell/detail/task_header.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zell/task.hpp"

namespace zap::zell {

namespace detail {
template <typename T>
JoinHandle<T> spawn_with(Scheduler* scheduler, Task<T> task, Worker* pinned, int node) {
  assert(scheduler != nullptr && "zap::zell::spawn() outside a task of a runtime");
  void* memory = allocate_frame(sizeof(Spawned<T>));
  auto* record = ::new (memory) Spawned<T>(std::move(task));
  record->scheduler = scheduler;
  submit_spawn(scheduler, record, pinned, node);
  return JoinHandle<T>(record);
}
}  // namespace detail

class Runtime {
 public:
  // Starts the workers; throws std::system_error if the configuration is invalid or a thread or
  // IO loop cannot be created. create() is the non-throwing form.
  explicit Runtime(const RuntimeConfig& config = {});
  static std::unique_ptr<Runtime> create(const RuntimeConfig& config, std::error_code& ec);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs `task` on the runtime and blocks the calling thread (not a worker) for its result.
  template <typename T>
  T block_on(Task<T> task) {
    return spawn(std::move(task)).get();
  }

  // Runnable anywhere (the global injection queue; from a worker of this runtime: that worker).
  template <typename T>
  JoinHandle<T> spawn(Task<T> task) {
    return detail::spawn_with(scheduler_.get(), std::move(task), nullptr, -1);
  }
  // Runs on the workers of node `node` (an index < node_count()) while they keep up; idle
  // workers of other nodes take it only when none of that node's workers sleeps.
  template <typename T>
  JoinHandle<T> spawn_on_node(unsigned node, Task<T> task) {
    return detail::spawn_with(scheduler_.get(), std::move(task), nullptr, static_cast<int>(node));
  }
  // Pinned to worker `worker` (< worker_count()) for its whole life.
  template <typename T>
  JoinHandle<T> spawn_on_worker(std::size_t worker, Task<T> task) {
    return detail::spawn_with(scheduler_.get(), std::move(task),
                              detail::worker_at(scheduler_.get(), worker), -1);
  }
  // Shard-per-core: one task per worker, make_task(worker_index) -> Task<T>, each pinned.
  template <typename F>
  auto spawn_per_worker(F&& make_task) {
    using TaskType = std::invoke_result_t<F&, std::size_t>;
    std::vector<JoinHandle<typename TaskType::ValueType>> handles;
    handles.reserve(worker_count());
    for (std::size_t w = 0; w < worker_count(); ++w) {
      handles.push_back(spawn_on_worker(w, make_task(w)));
    }
    return handles;
  }

  std::size_t worker_count() const noexcept;
  std::size_t node_count() const noexcept;
  // The node (index) worker `worker` belongs to.
  unsigned node_of_worker(std::size_t worker) const noexcept;
  std::vector<WorkerCounters> counters() const;

  // Stops, cancels and joins everything (see the header comment). Idempotent.
  void shutdown() noexcept;

 private:
  Runtime(std::unique_ptr<detail::Scheduler> scheduler) noexcept;
  std::unique_ptr<detail::Scheduler> scheduler_;
};

// Spawns on the runtime of the calling worker (here first; may be stolen). Precondition: called
// from a task of a runtime.
template <typename T>
JoinHandle<T> spawn(Task<T> task) {
  return detail::spawn_with(detail::current_scheduler(), std::move(task), nullptr, -1);
}
template <typename T>
JoinHandle<T> spawn_on_node(unsigned node, Task<T> task) {
  return detail::spawn_with(detail::current_scheduler(), std::move(task), nullptr,
                            static_cast<int>(node));
}
template <typename T>
JoinHandle<T> spawn_on_worker(std::size_t worker, Task<T> task) {
  detail::Scheduler* scheduler = detail::current_scheduler();
  return detail::spawn_with(scheduler, std::move(task), detail::worker_at(scheduler, worker), -1);
}

// Pinned to the calling worker for its whole life (shard-per-core: a connection accepted by a
// shard's listener is served on that shard's worker). Precondition: called from a task.
template <typename T>
JoinHandle<T> spawn_local(Task<T> task) {
  return detail::spawn_with(detail::current_scheduler(), std::move(task), detail::current_worker(),
                            -1);
}

// The index of the calling worker, or nullopt outside the runtime's workers.
inline std::optional<std::size_t> current_worker_index() noexcept {
  const detail::Worker* worker = detail::current_worker();
  if (worker == nullptr) return std::nullopt;
  return detail::worker_index(worker);
}

}  // namespace zap::zell
