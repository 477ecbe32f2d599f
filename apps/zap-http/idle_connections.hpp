// IdleConnections: lets a draining server end the keep-alive connections that sit idle between
// requests, at once, instead of waiting out their keep-alive timeout.
//
//   IdleConnections idle(workers);
//   IdleConnections::Registration registration(idle, worker, fd);   // in the connection's frame
//   if (!idle.enter_idle(registration.entry())) ... draining: close, do not wait for a request ...
//   co_await recv(...);                          // ends with 0 bytes if drained meanwhile
//   idle.leave_idle(registration.entry());
//   ...
//   registration.remove();                       // before the fd is closed
//
//   idle.begin_drain();                          // main thread, at SIGTERM
//
// begin_drain() shuts down the read side of every connection that is idle (its pending recv
// completes with 0 bytes, like a client close, and the connection closes); a busy connection
// sees draining() after its response and ends with "Connection: close".
//
// The idle flag and the draining flag are a Dekker pair (both sequentially consistent): either
// the connection sees draining before it waits, or the drainer sees it idle and wakes it; it
// never waits unseen. Entries are removed under the worker's lock before their fd is closed, so
// the drainer never shuts down a reused descriptor number.
// Thread-safety: add/remove/enter_idle/leave_idle from the connection's worker; begin_drain and
// draining from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include <zap/zync/cache_padded.hpp>
#include <zap/zync/mutex.hpp>

namespace zap::http {

class IdleConnections {
 public:
  struct Entry {
    explicit Entry(int socket_fd) : fd(socket_fd) {}
    const int fd;
    std::atomic<bool> idle{false};
    Entry* prev = nullptr;  // guarded by the worker list's lock
    Entry* next = nullptr;
  };

  explicit IdleConnections(std::size_t workers) : lists_(workers == 0 ? 1 : workers) {}

  // An Entry added for its lifetime: removed by remove() (before the fd is closed) or at the
  // latest by the destructor, so that a frame destroyed on any path never leaves it linked.
  class Registration {
   public:
    Registration(IdleConnections& registry, std::size_t worker, int fd)
        : registry_(registry), worker_(worker), entry_(fd) {
      registry_.add(worker_, entry_);
    }
    ~Registration() { remove(); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    Entry& entry() { return entry_; }
    void remove() noexcept {
      if (!linked_) return;
      linked_ = false;
      registry_.remove(worker_, entry_);
    }

   private:
    IdleConnections& registry_;
    std::size_t worker_;
    Entry entry_;
    bool linked_ = true;
  };

  void add(std::size_t worker, Entry& entry) noexcept;
  void remove(std::size_t worker, Entry& entry) noexcept;

  // Marks the connection idle; false if draining has begun (then it should close, not wait).
  bool enter_idle(Entry& entry) noexcept {
    entry.idle.store(true, std::memory_order_seq_cst);
    if (draining_.load(std::memory_order_seq_cst)) {
      entry.idle.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void leave_idle(Entry& entry) noexcept { entry.idle.store(false, std::memory_order_relaxed); }

  bool draining() const noexcept { return draining_.load(std::memory_order_seq_cst); }
  void begin_drain() noexcept;

 private:
  struct List {
    zync::Mutex lock;
    Entry* head = nullptr;
  };
  List& list(std::size_t worker) noexcept { return *lists_[worker % lists_.size()]; }

  std::vector<zync::CachePadded<List>> lists_;
  std::atomic<bool> draining_{false};
};

}  // namespace zap::http
