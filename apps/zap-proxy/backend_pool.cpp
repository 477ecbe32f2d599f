#include "backend_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <cstring>

namespace zap::proxy {

namespace {

// splitmix64's finalizer: a cheap, well-mixed 64-bit hash step.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The client's IP address (not its port: a client reconnects from another port) as a hash.
std::uint64_t hash_ip(const zio::SocketAddress& client) {
  std::uint64_t h = 0x5a17ull;
  if (client.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(client.data());
    h = mix(h ^ in->sin_addr.s_addr);
  } else if (client.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(client.data());
    std::uint64_t halves[2];
    std::memcpy(halves, &in6->sin6_addr, sizeof halves);
    h = mix(mix(h ^ halves[0]) ^ halves[1]);
  }
  return h;
}

// Smooth weighted round robin (as nginx's upstream module): every cycle gives backend i
// weight[i] turns, spread out instead of in runs.
std::vector<std::uint8_t> smooth_schedule(const std::vector<Backend*>& backends) {
  std::int64_t total = 0;
  for (const Backend* b : backends) total += b->weight;
  std::vector<std::int64_t> current(backends.size(), 0);
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(total));
  for (std::int64_t turn = 0; turn < total; ++turn) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < backends.size(); ++i) {
      current[i] += backends[i]->weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push_back(static_cast<std::uint8_t>(best));
  }
  return out;
}

}  // namespace

BackendPool::BackendPool(const std::vector<BackendSettings>& backends, Balance balance,
                         HealthRules rules)
    : balance_(balance), rules_(rules) {
  for (std::size_t i = 0; i < backends.size() && i < kMaxBackends; ++i) {
    storage_.push_back(std::make_unique<zync::CachePadded<Backend>>());
    Backend& b = **storage_.back();
    b.address = backends[i].address;
    b.name = b.address.to_string();
    b.weight = static_cast<std::uint32_t>(backends[i].weight);
    b.send_proxy = backends[i].send_proxy;
    b.index = i;
    backends_.push_back(&b);
  }
  schedule_ = smooth_schedule(backends_);
}

Backend* BackendPool::pick(const zio::SocketAddress& client, std::uint64_t tried) {
  if (backends_.empty()) return nullptr;
  switch (balance_) {
    case Balance::kRoundRobin:
      return pick_round_robin(tried);
    case Balance::kLeastConnections:
      return pick_least_connections(tried);
    case Balance::kSource:
      return pick_source(client, tried);
  }
  return nullptr;
}

Backend* BackendPool::pick_round_robin(std::uint64_t tried) {
  // Relaxed: the cursor only spreads choices; a race gives two clients the same turn.
  // A retry (tried != 0) takes no turn: the turns stay the clients', so a dead backend that is
  // not marked down (no health checks) costs each client at most one failed connect, not all.
  const std::uint64_t turn = tried == 0 ? cursor_->fetch_add(1, std::memory_order_relaxed)
                                        : retry_cursor_->fetch_add(1, std::memory_order_relaxed);
  Backend* scheduled = backends_[schedule_[turn % schedule_.size()]];
  if (tried == 0 && eligible(*scheduled, tried)) return scheduled;
  // The scheduled backend is down (or this is a retry): one of the eligible others, by weight at
  // random -- handing its turn to the next in the schedule would double that one's share.
  std::uint64_t total = 0;
  for (const Backend* b : backends_) total += eligible(*b, tried) ? b->weight : 0;
  if (total == 0) return nullptr;
  std::uint64_t ticket = mix(turn) % total;
  for (Backend* b : backends_) {
    if (!eligible(*b, tried)) continue;
    if (ticket < b->weight) return b;
    ticket -= b->weight;
  }
  return nullptr;
}

Backend* BackendPool::pick_least_connections(std::uint64_t tried) {
  const std::uint64_t start = cursor_->fetch_add(1, std::memory_order_relaxed);
  Backend* best = nullptr;
  for (std::size_t step = 0; step < backends_.size(); ++step) {
    Backend* b = backends_[(start + step) % backends_.size()];
    if (!eligible(*b, tried)) continue;
    // Fewer connections per unit of weight: a*w_b < b*w_a, without dividing. Strictly fewer,
    // so that ties go to the first in this turn's rotation.
    if (best == nullptr || b->active.load(std::memory_order_relaxed) * best->weight <
                               best->active.load(std::memory_order_relaxed) * b->weight) {
      best = b;
    }
  }
  return best;
}

Backend* BackendPool::pick_source(const zio::SocketAddress& client, std::uint64_t tried) {
  // Weighted rendezvous hashing: each backend scores the client; the best score wins. A
  // backend going down moves only its own clients.
  const std::uint64_t key = hash_ip(client);
  Backend* best = nullptr;
  double best_score = 0;
  for (Backend* b : backends_) {
    if (!eligible(*b, tried)) continue;
    const std::uint64_t h = mix(key ^ mix(b->index + 1));
    const double unit = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
    const double score = -static_cast<double>(b->weight) / std::log(unit);
    if (best == nullptr || score > best_score) {
      best = b;
      best_score = score;
    }
  }
  return best;
}

bool BackendPool::check_result(Backend& backend, bool ok) {
  if (!ok) {
    backend.successes_in_a_row.store(0, std::memory_order_relaxed);
    return record_failure(backend);
  }
  backend.failures_in_a_row.store(0, std::memory_order_relaxed);
  const int successes = backend.successes_in_a_row.fetch_add(1, std::memory_order_relaxed) + 1;
  // exchange: of racing verdicts, exactly one reports the change.
  return successes >= rules_.rise && !backend.up.exchange(true, std::memory_order_relaxed);
}

bool BackendPool::connect_failed(Backend& backend) {
  backend.connect_failures.fetch_add(1, std::memory_order_relaxed);
  return rules_.passive && record_failure(backend);
}

void BackendPool::connect_succeeded(Backend& backend) {
  // Read first: most connects succeed, and a store would bounce the line between workers.
  if (backend.failures_in_a_row.load(std::memory_order_relaxed) != 0) {
    backend.failures_in_a_row.store(0, std::memory_order_relaxed);
  }
}

bool BackendPool::record_failure(Backend& backend) {
  backend.successes_in_a_row.store(0, std::memory_order_relaxed);  // rise counts from here
  const int failures = backend.failures_in_a_row.fetch_add(1, std::memory_order_relaxed) + 1;
  return failures >= rules_.fall && backend.up.exchange(false, std::memory_order_relaxed);
}

std::size_t BackendPool::up_count() const {
  std::size_t n = 0;
  for (const Backend* b : backends_) n += b->up.load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

}  // namespace zap::proxy
