// Loop: backend selection and forwarding. The IO logic lives in src/linux/*_backend.cpp.
#include "zap/zio/loop.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend.hpp"

namespace zap::zio {
namespace detail {

Backend::~Backend() {
  detach_all();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Backend::wake() noexcept {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;  // a write is on its way
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the loop is woken anyway.
  while (::write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

bool splice_waits_for_output(int fd_in, int fd_out) noexcept {
  pollfd p[2] = {{fd_out, POLLOUT, 0}, {fd_in, POLLIN, 0}};
  if (::poll(p, 2, 0) < 0) return true;
  // An error or hang-up counts as ready: the retried splice reports it.
  if (!(p[0].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))) return true;
  return (p[1].revents & (POLLIN | POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) != 0;
}

void OpList::push_back(Operation& op) noexcept {
  op.next_ = nullptr;
  op.prev_ = tail;
  if (tail)
    tail->next_ = &op;
  else
    head = &op;
  tail = &op;
}

void OpList::remove(Operation& op) noexcept {
  if (op.prev_)
    op.prev_->next_ = op.next_;
  else
    head = op.next_;
  if (op.next_)
    op.next_->prev_ = op.prev_;
  else
    tail = op.prev_;
  op.next_ = op.prev_ = nullptr;
}

}  // namespace detail

std::string_view to_string(BackendKind kind) noexcept {
  switch (kind) {
    case BackendKind::io_uring:
      return "io_uring";
    case BackendKind::epoll:
      return "epoll";
    case BackendKind::automatic:
      break;
  }
  return "automatic";
}

std::unique_ptr<Loop> Loop::create(const LoopOptions& options, std::error_code& ec) {
  ec.clear();
  BackendKind wanted = options.backend;
  std::string why;
  if (wanted == BackendKind::automatic) {
    if (const char* env = std::getenv("ZAP_IO_BACKEND"); env != nullptr && *env != '\0') {
      if (std::strcmp(env, "epoll") == 0) {
        wanted = BackendKind::epoll;
        why = "ZAP_IO_BACKEND=epoll";
      } else if (std::strcmp(env, "io_uring") == 0 || std::strcmp(env, "uring") == 0) {
        wanted = BackendKind::io_uring;
        why = "ZAP_IO_BACKEND=io_uring";
      } else {
        why = std::string("ignored unknown ZAP_IO_BACKEND=") + env + "; ";
      }
    }
  } else {
    why = std::string("chosen by the caller: LoopOptions::backend");
  }

  std::unique_ptr<detail::Backend> backend;
  if (wanted == BackendKind::io_uring || wanted == BackendKind::automatic) {
    backend = detail::make_uring_backend(options, ec);
    if (backend) {
      if (wanted == BackendKind::automatic) why += "default";
      backend->set_reason("zio backend io_uring (" + why + "; " + backend->reason() + ")");
    } else if (wanted == BackendKind::io_uring) {
      return nullptr;  // explicit request: report, do not fall back silently
    } else {
      why += "io_uring unavailable: io_uring_setup failed with " + ec.message() +
             (ec.value() == EPERM ? " (seccomp or kernel.io_uring_disabled)" : "");
      ec.clear();
    }
  }
  if (!backend) {
    backend = detail::make_epoll_backend(options, ec);
    if (!backend) return nullptr;
    backend->set_reason("zio backend epoll (" + why + ")");
  }
  return std::unique_ptr<Loop>(new Loop(std::move(backend)));
}

Loop::Loop(std::unique_ptr<detail::Backend> backend) noexcept : backend_(std::move(backend)) {}
Loop::~Loop() = default;

void Loop::submit(Operation& op) noexcept { backend_->submit(op); }
void Loop::cancel(Operation& op) noexcept { backend_->cancel(op); }
void Loop::close_fd(int fd) noexcept { backend_->close_fd(fd); }
std::error_code Loop::register_buffer_ring(BufferRing& ring, unsigned short group) noexcept {
  return backend_->register_buffer_ring(ring, group);
}
void Loop::unregister_buffer_ring(BufferRing& ring) noexcept {
  if (ring.backend_ == backend_.get()) backend_->unregister_buffer_ring(ring);
}

std::size_t Loop::run_once(std::chrono::nanoseconds timeout) noexcept {
  return backend_->run_once(timeout.count());
}

void Loop::run() noexcept {
  // relaxed: the flag carries no data; stop()'s wake() orders what matters.
  while (!backend_->stop_requested.load(std::memory_order_relaxed)) backend_->run_once(-1);
  backend_->stop_requested.store(false, std::memory_order_relaxed);
}

void Loop::stop() noexcept {
  backend_->stop_requested.store(true, std::memory_order_relaxed);
  backend_->wake();
}

void Loop::wake() noexcept { backend_->wake(); }
std::size_t Loop::pending() const noexcept { return backend_->pending(); }
BackendKind Loop::backend() const noexcept { return backend_->kind(); }
std::string_view Loop::backend_reason() const noexcept { return backend_->reason(); }
LoopFeatures Loop::features() const noexcept { return backend_->features(); }

}  // namespace zap::zio
