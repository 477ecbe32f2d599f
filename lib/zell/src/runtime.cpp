// Runtime: the public face of the Scheduler.
#include "zap/zell/runtime.hpp"

#include <system_error>

#include "scheduler.hpp"

namespace zap::zell {

Runtime::Runtime(std::unique_ptr<detail::Scheduler> scheduler) noexcept
    : scheduler_(std::move(scheduler)) {}

Runtime::Runtime(const RuntimeConfig& config) {
  std::error_code ec;
  scheduler_ = std::make_unique<detail::Scheduler>(config, ec);
  if (!ec) ec = scheduler_->start();
  if (ec) throw std::system_error(ec, "zap::zell::Runtime");
}

std::unique_ptr<Runtime> Runtime::create(const RuntimeConfig& config, std::error_code& ec) {
  auto scheduler = std::make_unique<detail::Scheduler>(config, ec);
  if (!ec) ec = scheduler->start();
  if (ec) return nullptr;
  return std::unique_ptr<Runtime>(new Runtime(std::move(scheduler)));
}

Runtime::~Runtime() { shutdown(); }

void Runtime::shutdown() noexcept {
  if (scheduler_) scheduler_->shutdown();
}

std::size_t Runtime::worker_count() const noexcept { return scheduler_->workers().size(); }
std::size_t Runtime::node_count() const noexcept { return scheduler_->nodes().size(); }
unsigned Runtime::node_of_worker(std::size_t worker) const noexcept {
  return scheduler_->workers()[worker]->node();
}
std::vector<WorkerCounters> Runtime::counters() const { return scheduler_->counters(); }

}  // namespace zap::zell
