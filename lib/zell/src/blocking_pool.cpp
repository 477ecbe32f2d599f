// The blocking pool: a mutex-protected FIFO of jobs and on-demand threads.
#include "blocking_pool.hpp"

#include <mutex>
#include <string>
#include <utility>

namespace zap::zell::detail {

void BlockingPool::submit(BlockingJob* job) noexcept {
  job->next = nullptr;
  std::unique_lock lock(lock_);
  if (tail_ != nullptr) {
    tail_->next = job;
  } else {
    head_ = job;
  }
  tail_ = job;
  if (idle_threads_ == 0 && threads_.size() < max_threads_ && !stopping_) {
    zuma::ThreadOptions options;
    options.name = "zell-blocking";
    auto thread = zuma::Thread::spawn(options, [this] { thread_main(); });
    if (thread) threads_.push_back(std::move(*thread));
  }
  lock.unlock();
  work_cv_.notify_one();
}

void BlockingPool::thread_main() noexcept {
  std::unique_lock lock(lock_);
  for (;;) {
    if (head_ != nullptr) {
      BlockingJob* job = head_;
      head_ = job->next;
      if (head_ == nullptr) tail_ = nullptr;
      lock.unlock();
      job->run(job);
      job->complete(job);  // `job` may be gone after this
      lock.lock();
      continue;
    }
    if (stopping_) return;
    ++idle_threads_;
    work_cv_.wait(lock);
    --idle_threads_;
  }
}

void BlockingPool::shutdown() noexcept {
  std::vector<zuma::Thread> threads;
  {
    std::lock_guard guard(lock_);
    stopping_ = true;
    threads = std::move(threads_);
    threads_.clear();
  }
  work_cv_.notify_all();
  for (zuma::Thread& thread : threads) (void)thread.join();
}

}  // namespace zap::zell::detail
