// Shared helpers for the zell tests.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "zap/zell/config.hpp"
#include "zap/zell/frame_allocator.hpp"

namespace zell_test {

// Iteration counts shrink under sanitizers (ZAP_SANITIZE) or with ZELL_TEST_SCALE=<divisor>.
inline std::size_t scaled(std::size_t n) {
  std::size_t divisor = 1;
#if defined(ZAP_SANITIZE)
  divisor = 10;
#endif
  if (const char* env = std::getenv("ZELL_TEST_SCALE")) {
    const long v = std::strtol(env, nullptr, 10);
    if (v > 0) divisor = static_cast<std::size_t>(v);
  }
  return n / divisor == 0 ? 1 : n / divisor;
}

inline zap::zell::RuntimeConfig config(std::size_t workers = 2,
                                       zap::zell::IoBackend io = zap::zell::IoBackend::kNone) {
  zap::zell::RuntimeConfig c;
  c.workers = workers;
  c.io_backend = io;
  return c;
}

// Coroutine frames from ::operator new (so that AddressSanitizer sees a frame touched after it
// was freed), counted: a test checks that every frame is gone once its runtime is.
struct LiveFrames final : zap::zell::FrameAllocator {
  void* allocate(std::size_t n) override {
    live.fetch_add(1);
    total.fetch_add(1);
    return ::operator new(n);
  }
  void deallocate(void* p, std::size_t) noexcept override {
    live.fetch_sub(1);
    ::operator delete(p);  // unsized: clang before 19 has no sized delete without a flag
  }
  std::atomic<std::int64_t> live{0};   // allocated and not yet freed
  std::atomic<std::int64_t> total{0};  // ever allocated
};

}  // namespace zell_test
