// Task<T>: a lazy coroutine that produces a T (or throws), awaited by exactly one awaiter.
//
//   zap::zell::Task<int> answer() { co_return 42; }
//   zap::zell::Task<int> twice() {
//     int a = co_await answer();   // starts answer() now; resumes here when it finishes
//     co_return 2 * a;
//   }
//   auto handle = zap::zell::spawn(twice());   // or runtime.block_on(twice())
//
// A Task does nothing until awaited (or spawned). Awaiting it transfers control to it
// symmetrically and it transfers back when done, so deep chains of awaits use no stack. Its value,
// or the exception that escaped it, goes to the awaiter (`co_await` rethrows). Destroying a Task
// that has not finished destroys its frame (running the destructors of its locals); so does
// cancellation of the spawned task it belongs to. Frames come from allocate_frame() (see
// frame_allocator.hpp).
//
// Thread-safety: a Task is a move-only value; one owner. It may be resumed on any worker.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>
#include <variant>

#include "zap/zell/frame_allocator.hpp"

namespace zap::zell {

template <typename T = void>
class Task;

namespace detail {

struct TaskHeader;

class PromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      PromiseBase& promise = self.promise();
      if (promise.continuation_) return promise.continuation_;
      // The body of a spawned task: hand the result to its record, which destroys this frame.
      promise.on_root_done_(promise.root_);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  void set_continuation(std::coroutine_handle<> continuation) noexcept {
    continuation_ = continuation;
  }
  void set_root(TaskHeader* root, void (*on_done)(TaskHeader*) noexcept) noexcept {
    root_ = root;
    on_root_done_ = on_done;
  }

 protected:
  std::coroutine_handle<> continuation_;
  TaskHeader* root_ = nullptr;
  void (*on_root_done_)(TaskHeader*) noexcept = nullptr;
};

template <typename T>
class Promise final : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <typename U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

  bool failed() const noexcept { return result_.index() == 2; }
  std::exception_ptr error() const noexcept { return failed() ? std::get<2>(result_) : nullptr; }
  T&& value() noexcept { return std::move(std::get<1>(result_)); }

  // The value, or rethrows the exception. Precondition: the coroutine finished.
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    assert(result_.index() == 1);
    return std::move(std::get<1>(result_));
  }

 private:
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  bool failed() const noexcept { return static_cast<bool>(exception_); }
  std::exception_ptr error() const noexcept { return exception_; }
  void value() noexcept {}
  void take() {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::exception_ptr exception_;
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;
  using ValueType = T;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaiting starts the task; the awaiter resumes when it finishes, with its value or exception.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
        handle.promise().set_continuation(awaiter);
        return handle;
      }
      T await_resume() { return handle.promise().take(); }
    };
    assert(handle_);
    return Awaiter{handle_};
  }

  // For the runtime: gives up ownership of the frame.
  Handle release() noexcept { return std::exchange(handle_, nullptr); }

 private:
  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace zap::zell
