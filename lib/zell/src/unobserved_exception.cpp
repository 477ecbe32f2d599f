// The process-wide handler for exceptions of tasks nobody joined.
#include "zap/zell/unobserved_exception.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <utility>

namespace zap::zell {
namespace {

// Acquire/release: a handler installed on one thread is fully visible (it is a plain function
// pointer, but its code may depend on state set up before installing it) where it is called.
std::atomic<UnobservedExceptionHandler> installed{nullptr};

}  // namespace

UnobservedExceptionHandler set_unobserved_exception_handler(
    UnobservedExceptionHandler handler) noexcept {
  UnobservedExceptionHandler previous = installed.exchange(handler, std::memory_order_acq_rel);
  return previous != nullptr ? previous : &print_unobserved_exception;
}

void print_unobserved_exception(std::exception_ptr error) noexcept {
  const char* what = "an exception not derived from std::exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  // One write(2) per line: no stdio lock, and lines from several threads do not interleave.
  char line[512];
  const int n =
      std::snprintf(line, sizeof(line), "zap::zell: exception in a task nobody joined: %s\n", what);
  if (n > 0) {
    const std::size_t len = std::min(static_cast<std::size_t>(n), sizeof(line) - 1);
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line, len);
  }
}

namespace detail {

void report_unobserved_exception(std::exception_ptr error) noexcept {
  UnobservedExceptionHandler handler = installed.load(std::memory_order_acquire);
  (handler != nullptr ? handler : &print_unobserved_exception)(std::move(error));
}

}  // namespace detail
}  // namespace zap::zell
