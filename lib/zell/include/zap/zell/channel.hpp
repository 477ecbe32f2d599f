// Channel<T>: a bounded multi-producer multi-consumer queue between tasks, with awaitable
// send and recv.
//
//   zap::zell::Channel<int> channel(64);
//   // producer task:                          // consumer task:
//   bool ok = co_await channel.send(7);        while (auto v = co_await channel.recv()) use(*v);
//   channel.close();                           // recv() yields nullopt once closed and drained
//
// send() waits while the channel is full, recv() while it is empty; a waiting receiver gets a
// sender's value directly. After close(), send() returns false (the value is dropped) and recv()
// drains what is buffered, then returns nullopt. A cancelled task waiting in send/recv is
// withdrawn from the channel and dropped; its value is not sent.
//
// Thread-safety: every member may be used from any number of tasks on any workers; try_send /
// try_recv / close also from plain threads. One zync::Mutex guards the state (held briefly, never
// across a suspension). The channel must outlive the tasks waiting on it.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "zap/zell/detail/task_header.hpp"
#include "zap/zync/mutex.hpp"

namespace zap::zell {

template <typename T>
class Channel {
  struct Node;

 public:
  // capacity >= 1 values are buffered.
  explicit Channel(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  class SendAwaiter;
  class RecvAwaiter;

  [[nodiscard]] SendAwaiter send(T value) { return SendAwaiter(*this, std::move(value)); }
  [[nodiscard]] RecvAwaiter recv() noexcept { return RecvAwaiter(*this); }

  // Without waiting: false if full or closed (then `value` is left as it was).
  bool try_send(T& value) {
    Node* wake = nullptr;
    {
      std::lock_guard guard(lock_);
      if (closed_) return false;
      if (!try_send_locked(value, wake)) return false;
    }
    complete(wake);
    return true;
  }
  // Without waiting: nullopt if empty.
  std::optional<T> try_recv() {
    std::optional<T> out;
    Node* wake = nullptr;
    {
      std::lock_guard guard(lock_);
      try_recv_locked(out, wake);
    }
    complete(wake);
    return out;
  }

  void close() {
    Node* nodes = nullptr;
    {
      std::lock_guard guard(lock_);
      closed_ = true;
      for (Node* list : {receivers_.head, senders_.head}) {
        while (list != nullptr) {
          Node* next = list->next;
          list->linked = false;
          list->next = nodes;
          nodes = list;
          list = next;
        }
      }
      receivers_ = {};
      senders_ = {};
    }
    while (nodes != nullptr) {
      Node* next = nodes->next;
      complete(nodes);  // receivers keep an empty slot (nullopt), senders ok == false
      nodes = next;
    }
  }

  bool closed() const {
    std::lock_guard guard(lock_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard guard(lock_);
    return buffer_.size();
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  // A task waiting in send() or recv().
  struct Node {
    detail::Waiter waiter;
    detail::TaskHeader* task = nullptr;
    Channel* channel = nullptr;
    Node* prev = nullptr;
    Node* next = nullptr;
    std::optional<T> value;  // send: the value to deliver; recv: the value delivered
    bool ok = false;         // send: delivered
    bool linked = false;     // in a wait list; guarded by the channel lock
    bool cancel_pending = false;
  };
  struct List {
    Node* head = nullptr;
    Node* tail = nullptr;
    void push(Node* node) noexcept {
      node->prev = tail;
      node->next = nullptr;
      (tail != nullptr ? tail->next : head) = node;
      tail = node;
      node->linked = true;
    }
    void unlink(Node* node) noexcept {
      (node->prev != nullptr ? node->prev->next : head) = node->next;
      (node->next != nullptr ? node->next->prev : tail) = node->prev;
      node->prev = node->next = nullptr;
      node->linked = false;
    }
    Node* pop() noexcept {
      Node* node = head;
      if (node != nullptr) unlink(node);
      return node;
    }
  };

  // Lock held. Delivers to a waiting receiver or buffers. `wake`: a node to complete after unlock.
  bool try_send_locked(T& value, Node*& wake) {
    if (Node* receiver = receivers_.pop()) {
      receiver->value.emplace(std::move(value));
      wake = receiver;
      return true;
    }
    if (buffer_.size() >= capacity_) return false;
    buffer_.push_back(std::move(value));
    return true;
  }
  // Lock held. Takes a buffered value (refilling from a waiting sender) or a waiting sender's.
  bool try_recv_locked(std::optional<T>& out, Node*& wake) {
    if (!buffer_.empty()) {
      out.emplace(std::move(buffer_.front()));
      buffer_.pop_front();
      if (Node* sender = senders_.pop()) {
        buffer_.push_back(std::move(*sender->value));
        sender->ok = true;
        wake = sender;
      }
      return true;
    }
    if (Node* sender = senders_.pop()) {
      out.emplace(std::move(*sender->value));
      sender->ok = true;
      wake = sender;
      return true;
    }
    return false;
  }

  // Lock not held: the node's wait is over; make its task runnable.
  static void complete(Node* node) noexcept {
    if (node == nullptr) return;
    detail::TaskHeader* task = node->task;
    detail::end_wait(task);
    detail::schedule(task);  // `node` may be gone from here on
  }

  // Under the waiting task's wait lock (see detail/task_header.hpp).
  static bool try_cancel(detail::Waiter* waiter) noexcept {
    auto* node = static_cast<Node*>(waiter->context);
    Channel& channel = *node->channel;
    std::lock_guard guard(channel.lock_);
    if (node->linked) {
      (node->value && !node->ok ? channel.senders_ : channel.receivers_).unlink(node);
      return true;
    }
    node->cancel_pending = true;  // still registering (or already completed): see suspend()
    return false;
  }

  // Registers `node` for `task` and suspends, unless `attempt` (lock held) completes at once.
  template <typename Attempt>
  bool suspend(Node& node, std::coroutine_handle<> handle, List& list, Attempt attempt) {
    detail::TaskHeader* task = detail::current_task();
    assert(task != nullptr && "Channel send/recv awaited outside a task");
    task->resume_point = handle;
    node.task = task;
    node.channel = this;
    node.waiter.try_cancel = &try_cancel;
    node.waiter.context = &node;
    if (!detail::begin_wait(task, &node.waiter)) {
      detail::schedule(task);  // cancelled: run once more, to be dropped
      return true;
    }
    Node* wake = nullptr;
    bool done;
    bool cancelled = false;
    {
      std::lock_guard guard(lock_);
      done = attempt(wake);
      if (!done) {
        cancelled = node.cancel_pending;
        if (!cancelled) list.push(&node);  // from here on another thread may complete `node`
      }
    }
    complete(wake);
    if (done) {
      detail::end_wait(task);
      return false;
    }
    if (cancelled) complete(&node);  // cancelled while registering: drop it
    return true;
  }

  const std::size_t capacity_;
  mutable zync::Mutex lock_;
  std::deque<T> buffer_;  // guarded by lock_
  List receivers_;        // guarded by lock_
  List senders_;          // guarded by lock_
  bool closed_ = false;   // guarded by lock_

 public:
  class SendAwaiter {
   public:
    SendAwaiter(Channel& channel, T value) : channel_(channel) {
      node_.value.emplace(std::move(value));
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle) {
      return channel_.suspend(node_, handle, channel_.senders_, [this](Node*& wake) {
        if (channel_.closed_) return true;  // not sent: ok stays false
        node_.ok = channel_.try_send_locked(*node_.value, wake);
        return node_.ok;
      });
    }
    // True if the value was sent; false if the channel was closed.
    bool await_resume() noexcept { return node_.ok; }

   private:
    Channel& channel_;
    Node node_;
  };

  class RecvAwaiter {
   public:
    explicit RecvAwaiter(Channel& channel) noexcept : channel_(channel) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle) {
      return channel_.suspend(node_, handle, channel_.receivers_, [this](Node*& wake) {
        return channel_.try_recv_locked(node_.value, wake) || channel_.closed_;
      });
    }
    // The value; nullopt once the channel is closed and drained.
    std::optional<T> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
      return std::move(node_.value);
    }

   private:
    Channel& channel_;
    Node node_;
  };
};

}  // namespace zap::zell
