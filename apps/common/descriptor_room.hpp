// DescriptorRoom: how close an acceptor is to the descriptor limit (RLIMIT_NOFILE), read from the
// number of the descriptor accept() just returned, so that a daemon whose connections need more
// than their own socket (zap-proxy: a backend socket each) does not hand every last descriptor to
// clients it then cannot serve.
//
//   DescriptorRoom room(2);                        // a client socket and a backend socket each
//   if (near_limit) while (!room.room_for_next(listen_fd)) wait();   // leave them in the backlog
//   const int fd = accept4(...);
//   if (room.after_accept(fd) == DescriptorRoom::kPlenty) {
//     ...                                          // serve it; accept on (a burst, if it likes)
//   } else {
//     while (!room.rest_free(fd)) wait();          // (the room went meanwhile) hold it
//     ...                                          // serve it, and let it take its descriptors
//   }                                              // before the next accept; near_limit = true
//
// Why the number says anything: Linux hands out the lowest free number, so every number below a
// new descriptor is taken and at most `limit - 1 - fd` remain, all above it. That is an upper
// bound (some above it may be taken too), so the verdicts err towards accepting, which is what
// an acceptor did without them; near the limit rest_free() looks exactly. No system call per
// accept while descriptors are plenty: the limit is re-read at most once a second (prlimit(1)
// may change it on a running daemon), and after forget().
// Not thread-safe: one per acceptor.
#pragma once

#include <cstdint>

namespace zap::app {

class DescriptorRoom {
 public:
  enum Verdict {
    kPlenty,  // far from the limit
    kTight,   // within a few dozen connections of it
    kFull,    // not even the descriptors this connection needs besides its socket remain
  };

  // Re-reads the limit at most this often.
  static constexpr std::int64_t kRereadNs = 1'000'000'000;
  // Fewer free descriptors than this many connections' worth is tight.
  static constexpr std::uint64_t kTightConnections = 32;

  // `per_connection`: the descriptors one connection holds, its own socket included (at least 1).
  explicit DescriptorRoom(int per_connection) noexcept
      : per_connection_(per_connection < 1 ? 1u : static_cast<std::uint64_t>(per_connection)) {}

  // Just after accept() returned `fd`; `now_ns`: a monotonic clock.
  Verdict after_accept(int fd, std::int64_t now_ns) noexcept;
  Verdict after_accept(int fd) noexcept;  // now (steady clock)

  // The limit is read again at the next after_accept() (accept() failed with EMFILE: it may
  // have been lowered).
  void forget() noexcept { read_once_ = false; }

  // Whether a new connection would find all it needs, beside what `owed` connections admitted
  // before it still need: looked at before an accept, near the limit. Always true for one
  // descriptor per connection (accept() itself fails with EMFILE then). `any_fd`: an open
  // descriptor to dup (the listener).
  bool room_for_next(int any_fd, std::uint64_t owed = 0) noexcept;
  // With the socket `held` of a connection accepted but not served yet: whether the other
  // descriptors it needs are free now, beside what `owed` connections still need.
  bool rest_free(int held, std::uint64_t owed = 0) noexcept;
  // Both re-read the limit and count free numbers with dups (as many as needed, at most
  // kMaxLook) and closes: only near the limit, where the number of the last accepted descriptor
  // says nothing of those closed since. Past kMaxLook free, room is taken as there.
  static constexpr std::uint64_t kMaxLook = 64;

  // Free descriptors above `fd` at most, as of the last read of the limit.
  std::uint64_t above(int fd) const noexcept;

 private:
  bool free_at_least(int any_fd, std::uint64_t count) noexcept;

  std::uint64_t per_connection_;
  std::uint64_t limit_ = 0;  // the soft RLIMIT_NOFILE; 0 if unknown (then always plenty)
  std::int64_t read_ns_ = 0;
  bool read_once_ = false;
};

}  // namespace zap::app
