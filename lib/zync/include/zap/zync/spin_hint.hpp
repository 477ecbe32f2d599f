// spin_hint(): tell the CPU that the caller is in a spin-wait loop.
//
// On x86-64 this is PAUSE, which lowers power, yields pipeline resources to the SMT sibling and
// avoids the memory-order mis-speculation penalty when the awaited cache line finally changes.
// Thread-safe; it touches no memory.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace zap::zync {

inline void spin_hint() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

}  // namespace zap::zync
