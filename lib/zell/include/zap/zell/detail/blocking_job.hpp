// detail: a call queued for the blocking pool. Not for users.
#pragma once

namespace zap::zell::detail {

struct BlockingJob {
  void (*run)(BlockingJob* self) noexcept = nullptr;       // on a pool thread
  void (*complete)(BlockingJob* self) noexcept = nullptr;  // then, on the same thread
  BlockingJob* next = nullptr;
};

// Queues `job` on the current runtime's blocking pool; false outside a runtime.
bool submit_blocking(BlockingJob* job) noexcept;

}  // namespace zap::zell::detail
