// BlockingPool: threads for blocking calls (spawn_blocking), started on demand up to a bound and
// kept until shutdown. Jobs are intrusive and owned by their awaiter.
#pragma once

#include <cstddef>
#include <vector>

#include "zap/zell/detail/blocking_job.hpp"
#include "zap/zuma/thread.hpp"
#include "zap/zync/condvar.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell::detail {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t max_threads) noexcept : max_threads_(max_threads) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { shutdown(); }

  // Queues `job`; a pool thread runs job->run(job) and then job->complete(job).
  void submit(BlockingJob* job) noexcept;
  // Runs what is queued, then waits for every pool thread to leave.
  void shutdown() noexcept;

 private:
  void thread_main() noexcept;

  const std::size_t max_threads_;
  zync::Mutex lock_;
  zync::Condvar work_cv_;        // a job was queued, or shutdown
  BlockingJob* head_ = nullptr;  // guarded by lock_
  BlockingJob* tail_ = nullptr;
  std::vector<zuma::Thread> threads_;  // guarded by lock_
  std::size_t idle_threads_ = 0;       // guarded by lock_
  bool stopping_ = false;
};

}  // namespace zap::zell::detail
