// MpscQueue<T>: an intrusive, unbounded multi-producer single-consumer FIFO queue (Dmitry Vyukov's
// intrusive node-based MPSC queue).
//
// For many threads handing work to one owner thread without allocation, e.g. remote wake-ups or
// cross-thread frees into a worker's inbox. T derives from MpscNode; the queue links nodes through
// that base and never allocates, copies or frees them: nodes are owned by the caller, and a node
// belongs to the queue from push() until pop() returns it.
//
//   struct Wakeup : zap::zync::MpscNode { int task_id; };
//   zap::zync::MpscQueue<Wakeup> inbox;
//   Wakeup w{.task_id = 7};                    // must stay alive until popped
//   inbox.push(&w);                            // any thread; wait-free
//   while (Wakeup* next = inbox.pop()) { ... } // the single consumer thread
//
// Thread-safety: push() may be called from any number of threads concurrently (wait-free: one
// atomic exchange and one store). try_pop(), pop() and empty() must be called by one consumer
// thread at a time. The queue holds a stub node inside itself, so it cannot be moved or copied.
//
// The transient "inconsistent" state: push() first swaps itself in as the newest node (the exchange
// on head_) and only then links the previous newest node to it. Between those two steps the chain
// from the consumer's end is cut: try_pop() can return nullptr although a push has started (and
// even though later pushes have completed, since their nodes hang behind the cut). It is a valid
// linearization only in the sense that the in-flight push has not finished; the consumer must not
// take nullptr as proof that the queue will stay empty. pop() waits (spin, then yield) through that
// window and returns nullptr only when no push is in progress either; try_pop() never waits. If a
// producer is preempted inside the window, elements behind it are delayed until it runs again.
#pragma once

#include <atomic>
#include <concepts>

#include "zap/zync/backoff.hpp"
#include "zap/zync/cache_padded.hpp"

namespace zap::zync {

// The link a type needs to be queued in an MpscQueue. Derive from it (publicly).
class MpscNode {
 public:
  MpscNode() = default;
  // The link is the queue's; copying a node must not copy it.
  MpscNode(const MpscNode&) noexcept {}
  MpscNode& operator=(const MpscNode&) noexcept { return *this; }

 private:
  template <typename T>
  friend class MpscQueue;
  std::atomic<MpscNode*> next_{nullptr};
};

template <typename T>
class MpscQueue {
 public:
  MpscQueue() noexcept {
    // Relaxed: the queue is not shared yet.
    head_->store(&stub_, std::memory_order_relaxed);
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Appends `node`. Any thread; wait-free. `node` must not be in any queue already.
  void push(T* node) noexcept { push_node(static_cast<MpscNode*>(node)); }

  // Removes the oldest node. Returns nullptr when the queue is empty *or* a push is half-way
  // (see the header comment); never waits. Consumer thread only.
  T* try_pop() noexcept {
    MpscNode* node = nullptr;
    (void)pop_node(node);
    return static_cast<T*>(node);
  }

  // Removes the oldest node, waiting through the short inconsistent window of an in-flight push.
  // Returns nullptr only if the queue was empty with no push in progress. Consumer thread only.
  T* pop() noexcept {
    Backoff backoff;
    for (;;) {
      MpscNode* node = nullptr;
      const State state = pop_node(node);
      if (state != State::kInconsistent) return static_cast<T*>(node);
      backoff.snooze();
    }
  }

  // True if no node is queued and no push is in progress. Consumer thread only.
  bool empty() const noexcept {
    // Acquire: pairs with the acq_rel exchange in push_node(); a non-stub head means a push has
    // at least started.
    const MpscNode* head = head_->load(std::memory_order_acquire);
    return *tail_ == &stub_ && head == &stub_;
  }

 private:
  enum class State { kEmpty, kSuccess, kInconsistent };

  void push_node(MpscNode* node) noexcept {
    // Relaxed: `node` is not reachable by any other thread yet; the exchange below publishes it.
    node->next_.store(nullptr, std::memory_order_relaxed);
    // AcqRel. Release: publishes node->next_ == nullptr (and the caller's writes to the node) to
    // the next producer, which acquires head_ and then writes node->next_. Acquire: synchronizes
    // with the previous producer's release, so its nullptr store to prev->next_ is ordered before
    // our store below (and the consumer never sees a stale nullptr overwrite our link).
    MpscNode* prev = head_->exchange(node, std::memory_order_acq_rel);
    // -- the inconsistent window: head_ is `node`, but prev->next_ is still nullptr --
    // Release: publishes the node (the caller's payload and next_ == nullptr) to the consumer,
    // which reaches it by an acquire load of prev->next_.
    prev->next_.store(node, std::memory_order_release);
  }

  State pop_node(MpscNode*& out) noexcept {
    MpscNode* tail = *tail_;
    // Acquire (all loads of next_ below): pairs with the release store in push_node() that linked
    // the node, so the node's payload is visible before we hand it out.
    MpscNode* next = tail->next_.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) {
        // Nothing linked after the stub. Acquire: pairs with push_node()'s exchange; if head_ moved
        // off the stub, a push is in its window.
        return head_->load(std::memory_order_acquire) == &stub_ ? State::kEmpty
                                                                : State::kInconsistent;
      }
      *tail_ = next;  // skip the stub
      tail = next;
      next = next->next_.load(std::memory_order_acquire);  // acquire: as above
    }
    if (next != nullptr) {
      *tail_ = next;
      out = tail;
      return State::kSuccess;
    }
    // `tail` is the last linked node. If it is not also the newest (head_), a producer has swapped
    // head_ but not linked `tail` to its node yet. Acquire: pairs with push_node()'s exchange.
    if (head_->load(std::memory_order_acquire) != tail) return State::kInconsistent;
    // `tail` is the only node. Re-append the stub so `tail` gets a successor and can be detached.
    push_node(&stub_);
    next = tail->next_.load(std::memory_order_acquire);  // acquire: as above
    if (next != nullptr) {
      *tail_ = next;
      out = tail;
      return State::kSuccess;
    }
    // A producer swapped head_ between our check and our stub push; its link to `tail` is pending.
    return State::kInconsistent;
  }

  CachePadded<std::atomic<MpscNode*>> head_;  // newest node; producers exchange it
  CachePadded<MpscNode*> tail_{&stub_};       // oldest node; consumer only
  MpscNode stub_;                             // stands in when the queue is (nearly) empty
};

}  // namespace zap::zync
