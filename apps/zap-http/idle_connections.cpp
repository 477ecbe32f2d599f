#include "idle_connections.hpp"

#include <sys/socket.h>

#include <mutex>

namespace zap::http {

void IdleConnections::add(std::size_t worker, Entry& entry) noexcept {
  List& l = list(worker);
  std::lock_guard guard(l.lock);
  entry.prev = nullptr;
  entry.next = l.head;
  if (l.head != nullptr) l.head->prev = &entry;
  l.head = &entry;
}

void IdleConnections::remove(std::size_t worker, Entry& entry) noexcept {
  List& l = list(worker);
  std::lock_guard guard(l.lock);
  if (entry.prev != nullptr) {
    entry.prev->next = entry.next;
  } else {
    l.head = entry.next;
  }
  if (entry.next != nullptr) entry.next->prev = entry.prev;
  entry.prev = entry.next = nullptr;
}

void IdleConnections::begin_drain() noexcept {
  draining_.store(true, std::memory_order_seq_cst);
  for (auto& padded : lists_) {
    List& l = *padded;
    std::lock_guard guard(l.lock);
    for (Entry* e = l.head; e != nullptr; e = e->next) {
      // SHUT_RD wakes the pending recv with 0 bytes; what the connection already sent still
      // goes out. The fd is open: its entry is removed under this lock before it is closed.
      if (e->idle.load(std::memory_order_seq_cst)) ::shutdown(e->fd, SHUT_RD);
    }
  }
}

}  // namespace zap::http
