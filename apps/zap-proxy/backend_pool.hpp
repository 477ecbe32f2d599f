// BackendPool: zap-proxy's servers, their health, and the choice of one for each new connection.
//
//   BackendPool pool(settings.backends, Balance::kLeastConnections, {.fall = 3});
//   std::uint64_t tried = 0;
//   Backend* b = pool.pick(client_address, tried);   // nullptr: every backend down or tried
//   ... b->active counts this client now; the caller gives it back (active -= 1) when done ...
//   ... connect to b->address ...
//   pool.connect_failed(*b);                          // live traffic feeds the health state too
//   pool.check_result(*b, ok);                        // the health checker's verdicts
//
// Balancing (over the backends that are up and not yet tried for this connection):
//   round_robin        in turn, each backend `weight` times per cycle, interleaved smoothly
//                      (weights 5,1,1 give a a b a c a a, not a a a a a b c); the turn of a
//                      backend that is down goes to the others by weight;
//   least_connections  the fewest open connections per unit of weight, ties by weight at
//                      random (sequential short connections follow the weights too);
//   source             by the client's IP address (rendezvous hashing): a client keeps its
//                      backend while that backend is up (while it is full, the client waits
//                      for it in the queue, or is refused), and only the clients of a backend
//                      that goes down move.
// max_connections (nginx's max_conns): a backend with that many active connections is not chosen
// until one ends; pick() counts the client in `active` itself, so the limit holds exactly
// across workers.
// Backups (HAProxy's and nginx's "backup") are balanced the same way among themselves, and only
// when no other backend is up and untried: they stand in for primaries that are down, not for
// primaries that are full (a client waits for those in the queue, as in HAProxy). Weight 0 drains a
// backend: it gets no new clients (set it and reload, wait for its connections to end, then remove
// it). Health: a backend goes down after `fall` consecutive failures (health checks, or connects of
// live connections when checks are on), and up again after `rise` consecutive successful checks.
// Without health checks every backend stays up; failed connects are retried elsewhere.
//
// Reload: a pool built from a new config with the running pool as `previous` takes over each
// backend at the same address: the very same Backend, so its health, counters and the
// connections still relayed to it (least_connections counts them) carry on. Its weight is the
// new pool's (weights belong to a pool, not to a backend); its send_proxy is the new config's
// for every connection that starts after the reload. A backend of the old pool only is left to
// the connections that still hold it. In a pool without health checks every backend is up.
//
// Thread-safety: pick(), connect_failed(), check_result() and the counters are thread-safe
// (atomics); the set of backends is fixed at construction. At most 64 backends.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <zap/zio/address.hpp>
#include <zap/zync/cache_padded.hpp>

#include "proxy_protocol.hpp"

namespace zap::proxy {

inline constexpr std::size_t kMaxBackends = 64;

// Whether a failed socket() or connect() (`result`: -errno) was this host's own shortage --
// descriptors, local ports, kernel memory -- which says nothing about the backend: neither a
// health check nor a client's connect draws a verdict from it, or a moment of shortage would
// mark the whole pool down.
inline bool local_shortage(std::int64_t result) noexcept {
  switch (-result) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
    case EADDRNOTAVAIL:  // no local port left
    case EAGAIN:
      return true;
    default:
      return false;
  }
}

enum class Balance { kRoundRobin, kLeastConnections, kSource };

struct BackendSettings {
  zio::SocketAddress address;
  std::int64_t weight = 1;           // 0: drained (no new connections; those relayed go on)
  bool backup = false;               // chosen only when no other backend can be
  std::int64_t max_connections = 0;  // active connections at most; 0: no limit
  // The PROXY protocol header sent first on every connection to it (proxy_protocol.hpp).
  app::ProxyProtocol send_proxy = app::ProxyProtocol::kOff;

  friend bool operator==(const BackendSettings&, const BackendSettings&) = default;
};

struct HealthRules {
  int rise = 2;
  int fall = 3;
  bool passive = true;  // failed connects of live traffic count as failures
  // Health checks run for this pool. Without them nothing would bring a backend that is down back
  // up, so every backend starts (and, unless passive, stays) up.
  bool checked = true;
};

// A backend: who it is (fixed at construction) and its state (atomics), shared by every version of
// its pool that lists it (see Reload above).
struct Backend {
  zio::SocketAddress address;
  std::string name;        // "10.0.0.2:8080"
  std::uint64_t hash = 0;  // of the address: "source" balancing's seed, stable across reloads
  // The PROXY protocol header sent first on every connection to it: the newest config's.
  std::atomic<app::ProxyProtocol> send_proxy{app::ProxyProtocol::kOff};

  // Relaxed unless said otherwise: statistics and hints, nothing is ordered by them.
  std::atomic<bool> up{true};
  std::atomic<std::int64_t> active{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> bytes_to_backend{0};
  std::atomic<std::uint64_t> bytes_from_backend{0};
  std::atomic<int> failures_in_a_row{0};
  std::atomic<int> successes_in_a_row{0};
};

class BackendPool {
 public:
  // `previous`: the pool this one replaces (see Reload above), or nullptr.
  BackendPool(const std::vector<BackendSettings>& backends, Balance balance, HealthRules rules,
              const BackendPool* previous = nullptr);

  std::size_t size() const { return backends_.size(); }
  Backend& at(std::size_t i) { return *backends_[i]; }
  const Backend& at(std::size_t i) const { return *backends_[i]; }
  std::uint32_t weight(std::size_t i) const { return weights_[i]; }
  std::int64_t max_connections(std::size_t i) const { return limits_[i]; }
  bool backup(std::size_t i) const { return (backups_ >> i) & 1; }
  Balance balance() const { return balance_; }
  // How many backends were taken over unchanged from `previous`.
  std::size_t kept() const { return kept_; }

  // A backend that is up, under its max_connections and not tried yet for this client, or
  // nullptr; marks it in `tried` (bit i: at(i) was tried) and counts the client in its `active`,
  // which the caller must give back. `client` is used by the source balance only.
  Backend* pick(const zio::SocketAddress& client, std::uint64_t& tried);

  // Health verdicts. Each returns true if it changed the backend's state (the caller logs it).
  bool check_result(Backend& backend, bool ok);
  bool connect_failed(Backend& backend);
  void connect_succeeded(Backend& backend);

  std::size_t up_count() const;
  // Every backend that could take a client (up, not drained) is at its max_connections, and
  // there is at least one: room comes back when a connection ends (a queue may wait for it),
  // not when a backend comes up. A snapshot: the counts move under it.
  bool saturated() const;
  // Some backend that could take a client (up, not drained) is up: if pick() finds none, they
  // are full, and a connection that ends will make room.
  bool any_up() const;

 private:
  // Up, and its bit not set in `skip` (tried, drained, or not of the tier being picked from): a
  // backend that could take the client, now or once it has room.
  bool available(std::size_t i, std::uint64_t skip) const {
    return backends_[i]->up.load(std::memory_order_relaxed) &&
           (skip & (std::uint64_t{1} << i)) == 0;
  }
  bool has_room(std::size_t i) const {
    return limits_[i] == 0 || backends_[i]->active.load(std::memory_order_relaxed) < limits_[i];
  }
  bool eligible(std::size_t i, std::uint64_t skip) const {
    return available(i, skip) && has_room(i);
  }
  // Counts a client in at(i)'s `active`, if that keeps it within its limit.
  bool reserve(std::size_t i);
  // The position pick() would choose, not counting anything, or size() for none. `full`: bit i,
  // at(i) was found at its limit by pick() (room taken meanwhile by another worker).
  std::size_t choose(const zio::SocketAddress& client, std::uint64_t tried, std::uint64_t full,
                     bool first_attempt);
  // Each returns the position of its choice, or size() for none.
  std::size_t pick_round_robin(std::uint64_t skip, bool first_attempt, bool scheduled_tier);
  std::size_t pick_least_connections(std::uint64_t skip, bool first_attempt);
  // The client's backend among the available ones of `tier` (skip bits as available()), or
  // size() if that one is full: the client waits for it. A retry (`own_only` false: its own was
  // tried) takes the best of those with room.
  std::size_t pick_source(const zio::SocketAddress& client, std::uint64_t tier, std::uint64_t full,
                          bool own_only);
  bool record_failure(Backend& backend);

  // Shared: a reload's pool may hold the same Backend, and connections hold their pool.
  std::vector<std::shared_ptr<zync::CachePadded<Backend>>> storage_;
  std::vector<Backend*> backends_;
  std::vector<std::uint32_t> weights_;  // by position, as backends_
  std::vector<std::int64_t> limits_;    // max_connections by position; 0: none
  std::uint64_t backups_ = 0;           // bit i: at(i) is a backup
  std::uint64_t drained_ = 0;           // bit i: at(i) has weight 0
  std::size_t kept_ = 0;
  Balance balance_;
  HealthRules rules_;
  std::vector<std::uint8_t> schedule_;  // round robin: backend indices, smoothly interleaved
  zync::CachePadded<std::atomic<std::uint64_t>> cursor_{0};
  zync::CachePadded<std::atomic<std::uint64_t>> retry_cursor_{
      0};  // retries: not the clients' turns
};

}  // namespace zap::proxy
