// Thread: an OS thread with a chosen stack size, name and CPU affinity (pthreads underneath).
//
//   zap::zuma::ThreadOptions options;
//   options.stack_size = 64 * 1024;
//   options.name = "zell-worker-0";              // at most 15 characters
//   options.affinity = zap::zuma::CpuSet{0};
//   auto thread = zap::zuma::Thread::spawn(options, [] { run_worker(); });
//   if (!thread) return thread.error();          // e.g. EAGAIN, or invalid_argument
//   ...
//   std::error_code ec = thread->join();
//
// Unlike std::thread, spawning reports failure as a std::error_code instead of throwing
// (only std::bad_alloc, for the copy of the callable, can escape), the stack size is exact
// (64 KiB stacks work), and the name and affinity are in force before the callable starts
// (affinity through the pthread attributes, the name set by the new thread itself first thing).
//
// Destroying or move-assigning over a joinable Thread calls std::terminate, as std::thread does:
// a forgotten join is a bug, and silently joining could deadlock a destructor. join() or detach()
// first. An exception escaping the callable also terminates the process.
//
// Thread-safety: a Thread object is not synchronised; join/detach it from one thread. The
// completion of the callable happens-before join() returns.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "zap/zuma/cpu_set.hpp"
#include "zap/zuma/result.hpp"

namespace zap::zuma {

struct ThreadOptions {
  // Longest name Linux keeps (16 bytes with the terminating NUL).
  static constexpr std::size_t kMaxNameLength = 15;

  // Bytes of stack; 0 means the pthread default (usually 8 MiB). Rounded up to the page size;
  // below PTHREAD_STACK_MIN (16 KiB on x86-64 glibc) spawn fails with invalid_argument.
  // (Under ThreadSanitizer the sanitizer's pthread_create enlarges small stacks.)
  std::size_t stack_size = 0;
  // Thread name shown by ps/top/gdb; empty leaves the inherited name. Longer than
  // kMaxNameLength: spawn fails with invalid_argument (no silent truncation).
  std::string name;
  // CPUs the thread may run on (real, OS CPU ids); nullopt inherits the creator's affinity.
  // An empty set: invalid_argument. CPUs this process may not use: EINVAL from pthread_create.
  std::optional<CpuSet> affinity;
};

namespace detail {
// The type-erased callable a new thread runs; owned by the new thread once it has started.
struct ThreadBody {
  virtual ~ThreadBody() = default;
  virtual void run() = 0;
};

template <typename F>
struct ThreadBodyOf final : ThreadBody {
  explicit ThreadBodyOf(F&& f) : fn(std::move(f)) {}
  void run() override { fn(); }
  F fn;
};
}  // namespace detail

class Thread {
 public:
  // An empty, non-joinable Thread.
  Thread() noexcept = default;
  Thread(Thread&& other) noexcept : handle_(other.handle_), joinable_(other.joinable_) {
    other.joinable_ = false;
  }
  Thread& operator=(Thread&& other) noexcept;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // std::terminate if still joinable (see the header comment).
  ~Thread();

  // Starts a thread running `fn()` (a copy/move of it) with `options`. Errors:
  //   std::errc::invalid_argument  name too long, stack too small, empty affinity
  //   EAGAIN / ENOMEM / EINVAL / EPERM (system_category)  from pthread_create and its attributes
  template <typename F>
  static Result<Thread> spawn(const ThreadOptions& options, F&& fn) {
    using Body = detail::ThreadBodyOf<std::decay_t<F>>;
    std::decay_t<F> copy(std::forward<F>(fn));
    return spawn_body(options, std::make_unique<Body>(std::move(copy)));
  }

  bool joinable() const noexcept { return joinable_; }
  // Waits for the thread to finish. Errors: invalid_argument if not joinable,
  // resource_deadlock_would_occur if called by the thread itself.
  std::error_code join() noexcept;
  // Lets the thread run on its own; its resources are freed when it ends. Errors as join().
  std::error_code detach() noexcept;
  // The pthread handle; meaningful only while joinable().
  pthread_t native_handle() const noexcept { return handle_; }

 private:
  static Result<Thread> spawn_body(const ThreadOptions& options,
                                   std::unique_ptr<detail::ThreadBody> body);

  pthread_t handle_{};
  bool joinable_ = false;
};

}  // namespace zap::zuma
