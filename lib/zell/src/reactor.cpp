// The reactors: a futex parker, and (when zio is built) a zio::Loop.
#include "reactor.hpp"

#include "zap/zync/parker.hpp"

#if defined(ZAP_ZELL_HAS_ZIO)
#include "zap/zio/loop.hpp"
#endif

namespace zap::zell::detail {
namespace {

class ParkerReactor final : public Reactor {
 public:
  void poll(std::chrono::nanoseconds timeout) noexcept override {
    if (timeout.count() < 0) {
      parker_.park();
    } else if (timeout.count() > 0) {
      (void)parker_.park_for(timeout);
    }
  }
  void wake() noexcept override { parker_.unpark(); }

 private:
  zync::Parker parker_;
};

#if defined(ZAP_ZELL_HAS_ZIO)
class ZioReactor final : public Reactor {
 public:
  explicit ZioReactor(std::unique_ptr<zio::Loop> loop) noexcept : loop_(std::move(loop)) {}
  void poll(std::chrono::nanoseconds timeout) noexcept override {
    (void)loop_->run_once(timeout.count() < 0 ? zio::Loop::kForever : timeout);
  }
  void wake() noexcept override {
    if (loop_ != nullptr) loop_->wake();
  }
  void close() noexcept override { loop_.reset(); }
  zio::Loop* loop() noexcept override { return loop_.get(); }
  bool polls_cheaply() const noexcept override {
    return loop_ != nullptr && loop_->backend() == zio::BackendKind::io_uring;
  }

 private:
  std::unique_ptr<zio::Loop> loop_;
};
#endif

}  // namespace

std::unique_ptr<Reactor> make_reactor(IoBackend backend, std::error_code& ec) {
  ec.clear();
  if (backend == IoBackend::kNone) return std::make_unique<ParkerReactor>();
#if defined(ZAP_ZELL_HAS_ZIO)
  zio::LoopOptions options;
  options.backend = backend == IoBackend::kIoUring ? zio::BackendKind::io_uring
                    : backend == IoBackend::kEpoll ? zio::BackendKind::epoll
                                                   : zio::BackendKind::automatic;
  auto loop = zio::Loop::create(options, ec);
  if (!loop) return nullptr;
  return std::make_unique<ZioReactor>(std::move(loop));
#else
  if (backend != IoBackend::kAutomatic) {
    ec = std::make_error_code(std::errc::function_not_supported);
    return nullptr;
  }
  return std::make_unique<ParkerReactor>();
#endif
}

}  // namespace zap::zell::detail
