// Shared helpers for the zell tests.
#pragma once

#include <cstddef>
#include <cstdlib>

#include "zap/zell/config.hpp"

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

}  // namespace zell_test
