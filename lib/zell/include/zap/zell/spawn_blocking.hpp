// spawn_blocking(f): runs a blocking call on the runtime's blocking thread pool and resumes the
// awaiting task with its result, so that workers never block.
//
//   std::string text = co_await zap::zell::spawn_blocking([&] { return read_whole_file(path); });
//
// The pool starts threads on demand (up to RuntimeConfig::max_blocking_threads) and keeps them.
// Exceptions thrown by `f` are rethrown to the awaiter. A blocking call cannot be interrupted:
// cancelling the awaiting task takes effect when `f` returns.
// Thread-safety: call from a task; `f` runs on another thread.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "zap/zell/detail/blocking_job.hpp"
#include "zap/zell/detail/task_header.hpp"

namespace zap::zell {

template <typename F>
class BlockingAwaiter : detail::BlockingJob {
  using R = std::invoke_result_t<F&>;
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

 public:
  explicit BlockingAwaiter(F fn) : fn_(std::move(fn)) {}
  BlockingAwaiter(const BlockingAwaiter&) = delete;
  BlockingAwaiter& operator=(const BlockingAwaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> handle) noexcept {
    task_ = detail::current_task();
    task_->resume_point = handle;
    detail::keep_findable(task_);  // held by the pool's job: no run queue has it
    run = &run_fn;
    complete = &complete_fn;
    if (detail::submit_blocking(this)) return true;
    run_fn(this);  // no pool (not on a worker): call it here
    return false;
  }
  R await_resume() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    if constexpr (!std::is_void_v<R>) return std::move(std::get<1>(result_));
  }

 private:
  static void run_fn(detail::BlockingJob* job) noexcept {
    auto* self = static_cast<BlockingAwaiter*>(job);
    try {
      if constexpr (std::is_void_v<R>) {
        self->fn_();
        self->result_.template emplace<1>();
      } else {
        self->result_.template emplace<1>(self->fn_());
      }
    } catch (...) {
      self->result_.template emplace<2>(std::current_exception());
    }
  }
  static void complete_fn(detail::BlockingJob* job) noexcept {
    detail::schedule(static_cast<BlockingAwaiter*>(job)->task_);
  }

  F fn_;
  std::variant<std::monostate, Stored, std::exception_ptr> result_;
  detail::TaskHeader* task_ = nullptr;
};

template <typename F>
[[nodiscard]] BlockingAwaiter<std::decay_t<F>> spawn_blocking(F&& fn) {
  return BlockingAwaiter<std::decay_t<F>>(std::forward<F>(fn));
}

}  // namespace zap::zell
