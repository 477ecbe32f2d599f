#include "zap/zuma/thread.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <exception>

#include "os_cpu_set.hpp"

namespace zap::zuma {
namespace {

// What the new thread receives: its callable and the name to give itself before running it.
struct StartBlock {
  std::unique_ptr<detail::ThreadBody> body;
  char name[ThreadOptions::kMaxNameLength + 1] = {};
};

// noexcept: an exception escaping the callable terminates the process, as with std::thread.
void* thread_start(void* arg) noexcept {
  std::unique_ptr<StartBlock> start(static_cast<StartBlock*>(arg));
  if (start->name[0] != '\0') {
    // Cannot fail: the name fits (checked by spawn) and it is the calling thread (prctl).
    pthread_setname_np(pthread_self(), start->name);
  }
  start->body->run();
  return nullptr;
}

std::size_t min_stack_size() noexcept {
  const long value = sysconf(_SC_THREAD_STACK_MIN);
  return value > 0 ? static_cast<std::size_t>(value) : 16384;
}

std::size_t round_up_to_page(std::size_t size) noexcept {
  const long page = sysconf(_SC_PAGESIZE);
  const std::size_t p = page > 0 ? static_cast<std::size_t>(page) : 4096;
  return (size + p - 1) / p * p;
}

std::error_code os_error(int code) noexcept { return {code, std::system_category()}; }

// Owns an initialised pthread_attr_t.
class ThreadAttributes {
 public:
  ThreadAttributes() noexcept { init_error_ = pthread_attr_init(&attr_); }
  ~ThreadAttributes() {
    if (init_error_ == 0) pthread_attr_destroy(&attr_);
  }
  ThreadAttributes(const ThreadAttributes&) = delete;
  ThreadAttributes& operator=(const ThreadAttributes&) = delete;

  int init_error() const noexcept { return init_error_; }
  pthread_attr_t* get() noexcept { return &attr_; }

 private:
  pthread_attr_t attr_;
  int init_error_ = 0;
};

}  // namespace

Thread& Thread::operator=(Thread&& other) noexcept {
  if (this != &other) {
    if (joinable_) std::terminate();
    handle_ = other.handle_;
    joinable_ = other.joinable_;
    other.joinable_ = false;
  }
  return *this;
}

Thread::~Thread() {
  if (joinable_) std::terminate();
}

Result<Thread> Thread::spawn_body(const ThreadOptions& options,
                                  std::unique_ptr<detail::ThreadBody> body) {
  if (options.name.size() > ThreadOptions::kMaxNameLength ||
      options.name.find('\0') != std::string::npos) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (options.stack_size != 0 && options.stack_size < min_stack_size()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (options.affinity && options.affinity->empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }

  ThreadAttributes attributes;
  if (attributes.init_error() != 0) return os_error(attributes.init_error());
  if (options.stack_size != 0) {
    const int error =
        pthread_attr_setstacksize(attributes.get(), round_up_to_page(options.stack_size));
    if (error != 0) return os_error(error);
  }
  if (options.affinity) {
    const cpu_set_t os_cpus = detail::to_os_cpu_set(*options.affinity);
    const int error = pthread_attr_setaffinity_np(attributes.get(), sizeof(os_cpus), &os_cpus);
    if (error != 0) return os_error(error);
  }

  auto start = std::make_unique<StartBlock>();
  start->body = std::move(body);
  std::memcpy(start->name, options.name.data(), options.name.size());

  Thread thread;
  const int error = pthread_create(&thread.handle_, attributes.get(), &thread_start, start.get());
  if (error != 0) return os_error(error);
  start.release();  // the new thread owns it now
  thread.joinable_ = true;
  return thread;
}

std::error_code Thread::join() noexcept {
  if (!joinable_) return std::make_error_code(std::errc::invalid_argument);
  if (pthread_equal(handle_, pthread_self())) {
    return std::make_error_code(std::errc::resource_deadlock_would_occur);
  }
  const int error = pthread_join(handle_, nullptr);
  if (error != 0) return os_error(error);
  joinable_ = false;
  return {};
}

std::error_code Thread::detach() noexcept {
  if (!joinable_) return std::make_error_code(std::errc::invalid_argument);
  const int error = pthread_detach(handle_);
  if (error != 0) return os_error(error);
  joinable_ = false;
  return {};
}

}  // namespace zap::zuma
