// store_load_fence(): the StoreLoad barrier of the Dekker-style handshakes between a thread that
// publishes work and then looks for sleepers, and a worker that announces it sleeps and then
// looks for work: each side does its store, this fence, then its load, so at least one of them
// sees the other's store.
//
// ThreadSanitizer does not model fences (and GCC refuses to compile them with -fsanitize=thread),
// so under TSan both sides do a seq_cst read-modify-write of one shared word instead: RMWs of one
// location are totally ordered, and the later one acquires everything before the earlier one.
#pragma once

#include <atomic>
#include <cstdint>

namespace zap::zell::detail {

#if defined(__SANITIZE_THREAD__)
inline std::atomic<std::uint32_t> tsan_fence_word{0};
#endif

inline void store_load_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  // SeqCst RMW: see above (TSan builds only).
  tsan_fence_word.fetch_add(1, std::memory_order_seq_cst);
#else
  // SeqCst fence: orders this thread's earlier store before its later load (see above).
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace zap::zell::detail
