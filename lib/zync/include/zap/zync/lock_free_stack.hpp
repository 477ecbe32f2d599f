// LockFreeStack<T>: an intrusive lock-free LIFO stack (Treiber stack) protected against ABA.
//
// For free lists and pools shared by many threads: push and pop a node without a lock and without
// allocating. T derives from LockFreeStackNode; the stack links nodes through that base and never
// allocates, copies or frees them: nodes are owned by the caller.
//
//   struct Block : zap::zync::LockFreeStackNode { std::byte bytes[4096]; };
//   zap::zync::LockFreeStack<Block> free_blocks;
//   free_blocks.push(block);                        // any thread
//   if (Block* b = free_blocks.pop()) use(b);       // any thread
//
// Thread-safety: push(), pop() and empty_approx() may be called from any threads concurrently.
// Both are lock-free (a CAS loop; a failed CAS means another thread succeeded).
//
// ABA: a pop reads head = A and A->next = B, then CASes head from A to B. If meanwhile other
// threads popped A, popped B and pushed A back, a plain pointer CAS would succeed and install B,
// which is no longer in the stack. The head therefore carries a tag, incremented by every
// successful push and pop, and the CAS compares pointer and tag together, so that it fails in that
// scenario.
//
// Tagged head layout: one 64-bit word, the node address in the low 48 bits and a 16-bit tag in the
// high 16. The obvious {pointer, counter} pair needs a 16-byte CAS (cmpxchg16b), but g++ (12, also
// with -mcx16) routes std::atomic of a 16-byte struct through libatomic, which reports it as not
// lock-free (is_always_lock_free == false), so we pack instead. This relies on user-space addresses
// fitting in 48 bits, true on x86-64 (47-bit user space with 4-level paging, and 5-level paging
// only hands out higher addresses to mmap calls that ask for them) and on aarch64 with 48-bit VAs;
// it is checked in debug builds. It is not valid with tagged pointers (aarch64 TBI/MTE) or
// 52/57-bit VAs. A 16-bit tag protects unless a pop stalls between its load and its CAS while
// exactly a multiple of 65536 modifications happen and the same node is back on top: negligible in
// practice.
//
// Memory requirement (type-stable memory): a pop that lost a race may still read node->next of a
// node another thread has already popped. That read is harmless (the tag makes its CAS fail) only
// if the node's memory is still readable, so a popped node must not be returned to the OS
// (unmapped) while pops may be in flight. Reusing it as another node, or keeping it in a pool, is
// fine; freeing it to a general allocator that may unmap it is not. (ASan reports such a free as
// use-after-free.)
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

#include "zap/zync/cache_padded.hpp"

namespace zap::zync {

// The link a type needs to be kept in a LockFreeStack. Derive from it (publicly).
class LockFreeStackNode {
 public:
  LockFreeStackNode() = default;
  // The link is the stack's; copying a node must not copy it.
  LockFreeStackNode(const LockFreeStackNode&) noexcept {}
  LockFreeStackNode& operator=(const LockFreeStackNode&) noexcept { return *this; }

 private:
  template <typename T>
  friend class LockFreeStack;
  // Atomic because a racing pop may read it while the node's new owner re-pushes it.
  std::atomic<LockFreeStackNode*> next_{nullptr};
};

template <typename T>
class LockFreeStack {
 public:
  LockFreeStack() = default;
  LockFreeStack(const LockFreeStack&) = delete;
  LockFreeStack& operator=(const LockFreeStack&) = delete;

  // Pushes `node` on top. Any thread. `node` must not be in the stack already.
  void push(T* node) noexcept {
    LockFreeStackNode* link = static_cast<LockFreeStackNode*>(node);
    assert((reinterpret_cast<std::uintptr_t>(link) & ~kPointerMask) == 0 &&
           "LockFreeStack: node address does not fit in 48 bits");
    // Relaxed: only a first guess; the CAS below validates it.
    std::uint64_t head = head_->load(std::memory_order_relaxed);
    for (;;) {
      // Relaxed: the node is private to us until the CAS publishes it.
      link->next_.store(pointer_of(head), std::memory_order_relaxed);
      // Release on success: publishes node->next_ and the caller's writes to the node to the pop
      // that acquires this head value. Relaxed on failure: we only retry with the fresh value.
      if (head_->compare_exchange_weak(head, pack(link, tag_of(head) + 1),
                                       std::memory_order_release, std::memory_order_relaxed)) {
        return;
      }
    }
  }

  // Pops the top node, or returns nullptr if the stack is empty. Any thread.
  T* pop() noexcept {
    // Acquire: pairs with the release CAS of the push that installed this head, so the node's
    // next_ and contents written before that push are visible.
    std::uint64_t head = head_->load(std::memory_order_acquire);
    for (;;) {
      LockFreeStackNode* node = pointer_of(head);
      if (node == nullptr) return nullptr;
      // Relaxed: ordered after the acquire of head. Possibly stale if `node` has been popped (and
      // maybe re-pushed) since; then head's tag has changed and the CAS below fails.
      LockFreeStackNode* next = node->next_.load(std::memory_order_relaxed);
      // Acquire on success: we own `node`; keeps our use of it after any push that re-published it
      // (the head value we compared equal came from that push's release). Acquire on failure: the
      // reloaded head is read like the first one, so its node must be visible too.
      if (head_->compare_exchange_weak(head, pack(next, tag_of(head) + 1),
                                       std::memory_order_acquire, std::memory_order_acquire)) {
        return static_cast<T*>(node);
      }
    }
  }

  // True if the stack was empty at some instant during the call.
  bool empty_approx() const noexcept {
    // Relaxed: a hint only; no node is accessed on the strength of it.
    return pointer_of(head_->load(std::memory_order_relaxed)) == nullptr;
  }

 private:
  static constexpr unsigned kPointerBits = 48;
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << kPointerBits) - 1;

  static std::uint64_t pack(LockFreeStackNode* node, std::uint64_t tag) noexcept {
    return reinterpret_cast<std::uintptr_t>(node) | (tag << kPointerBits);  // tag wraps mod 2^16
  }
  static LockFreeStackNode* pointer_of(std::uint64_t word) noexcept {
    return reinterpret_cast<LockFreeStackNode*>(static_cast<std::uintptr_t>(word & kPointerMask));
  }
  static std::uint64_t tag_of(std::uint64_t word) noexcept { return word >> kPointerBits; }

  static_assert(sizeof(std::uintptr_t) == sizeof(std::uint64_t), "LockFreeStack: 64-bit only");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  CachePadded<std::atomic<std::uint64_t>> head_{std::uint64_t{0}};  // tag:16 | node address:48
};

}  // namespace zap::zync
