// What happens to an exception that ends a task nobody joins.
//
// A spawned task that throws keeps its exception for whoever awaits its JoinHandle. When the
// handle was dropped (detached) or destroyed without a join, nobody ever will: instead of
// vanishing, the exception goes to a process-wide handler when the task's record is freed. The
// default handler prints one line to stderr; a daemon installs one that logs through its logger.
//
//   zap::zell::set_unobserved_exception_handler([](std::exception_ptr e) noexcept {
//     try { std::rethrow_exception(e); } catch (const std::exception& x) { log(x.what()); }
//                                        catch (...) { log("unknown exception"); }
//   });
//
// Thread-safety: the handler is called on whichever thread frees the record (a worker, or the
// thread that dropped the handle), possibly on several threads at once; it must not throw.
// set_unobserved_exception_handler may be called from any thread.
#pragma once

#include <exception>

namespace zap::zell {

using UnobservedExceptionHandler = void (*)(std::exception_ptr error) noexcept;

// Installs `handler` (nullptr restores the default) and returns the previous one.
UnobservedExceptionHandler set_unobserved_exception_handler(
    UnobservedExceptionHandler handler) noexcept;

// The default: "zap::zell: exception in a task nobody joined: <what()>" on stderr.
void print_unobserved_exception(std::exception_ptr error) noexcept;

namespace detail {
// Hands `error` to the installed handler.
void report_unobserved_exception(std::exception_ptr error) noexcept;
}  // namespace detail

}  // namespace zap::zell
