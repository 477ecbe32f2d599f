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
std::vector<std::uint8_t> smooth_schedule(const std::vector<std::uint32_t>& weights) {
  std::int64_t total = 0;
  for (const std::uint32_t w : weights) total += w;
  std::vector<std::int64_t> current(weights.size(), 0);
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(total));
  for (std::int64_t turn = 0; turn < total; ++turn) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push_back(static_cast<std::uint8_t>(best));
  }
  return out;
}

// A backend's name ("10.0.0.2:8080", canonical) as a hash: the same backend scores the same for
// a client in every pool that holds it, so "source" clients keep their backend across reloads.
std::uint64_t hash_name(const std::string& name) {
  std::uint64_t h = 0xbac4e9dull;
  for (const char c : name) h = mix(h ^ static_cast<unsigned char>(c));
  return h;
}

}  // namespace

BackendPool::BackendPool(const std::vector<BackendSettings>& backends, Balance balance,
                         HealthRules rules, const BackendPool* previous)
    : balance_(balance), rules_(rules) {
  std::vector<bool> taken(previous != nullptr ? previous->size() : 0, false);
  for (std::size_t i = 0; i < backends.size() && i < kMaxBackends; ++i) {
    const BackendSettings& want = backends[i];
    // The running pool's backend at this address, if any (each taken over once at most).
    std::size_t old = taken.size();
    for (std::size_t j = 0; j < taken.size() && old == taken.size(); ++j) {
      if (!taken[j] && previous->backends_[j]->address == want.address) old = j;
    }
    if (old < taken.size()) {
      taken[old] = true;
      storage_.push_back(previous->storage_[old]);
      ++kept_;
    } else {
      storage_.push_back(std::make_shared<zync::CachePadded<Backend>>());
      Backend& b = **storage_.back();
      b.address = want.address;
      b.name = b.address.to_string();
      b.hash = hash_name(b.name);
    }
    Backend& b = **storage_.back();
    // Relaxed: new connections read it at their connect; those of the running pool may see
    // either value, as if they had started just before or after the reload.
    b.send_proxy.store(want.send_proxy, std::memory_order_relaxed);
    if (!rules_.checked) {
      // Nothing would ever bring a backend of this pool back up (its checks may have been
      // turned off by this reload while it was down): every backend is up.
      b.up.store(true, std::memory_order_relaxed);
      b.failures_in_a_row.store(0, std::memory_order_relaxed);
    }
    backends_.push_back(&b);
    weights_.push_back(static_cast<std::uint32_t>(want.weight));
    limits_.push_back(want.max_connections);
    if (want.backup) backups_ |= std::uint64_t{1} << i;
    if (want.weight == 0) drained_ |= std::uint64_t{1} << i;
  }
  // The schedule turns over the primaries only; backups are chosen by weight when needed.
  std::vector<std::uint32_t> scheduled = weights_;
  for (std::size_t i = 0; i < scheduled.size(); ++i) {
    if (backup(i)) scheduled[i] = 0;
  }
  schedule_ = smooth_schedule(scheduled);
}

Backend* BackendPool::pick(const zio::SocketAddress& client, std::uint64_t& tried) {
  const bool first_attempt = tried == 0;
  std::uint64_t full = 0;  // backends that reached their limit between the choice and the count
  for (;;) {
    const std::size_t chosen = choose(client, tried, full, first_attempt);
    if (chosen >= size()) return nullptr;
    if (reserve(chosen)) {
      tried |= std::uint64_t{1} << chosen;
      return backends_[chosen];
    }
    full |= std::uint64_t{1} << chosen;
  }
}

bool BackendPool::reserve(std::size_t i) {
  std::atomic<std::int64_t>& active = backends_[i]->active;
  // Relaxed: a count, not a publication; the CAS makes the limit exact across workers.
  if (limits_[i] == 0) {
    active.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  std::int64_t now = active.load(std::memory_order_relaxed);
  while (now < limits_[i]) {
    if (active.compare_exchange_weak(now, now + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

std::size_t BackendPool::choose(const zio::SocketAddress& client, std::uint64_t tried,
                                std::uint64_t full, bool first_attempt) {
  std::size_t chosen = size();
  // The primaries first; the backups only when no primary can be had (down, tried, or all
  // drained), as HAProxy's and nginx's "backup". A drained backend (weight 0) is never chosen.
  for (const bool primaries : {true, false}) {
    if (!primaries && backups_ == 0) break;
    const std::uint64_t tier = tried | drained_ | (primaries ? backups_ : ~backups_);
    const std::uint64_t skip = tier | full;
    switch (balance_) {
      case Balance::kRoundRobin:
        chosen = pick_round_robin(skip, first_attempt, primaries);
        break;
      case Balance::kLeastConnections:
        chosen = pick_least_connections(skip, first_attempt);
        break;
      case Balance::kSource:
        chosen = pick_source(client, tier, full, first_attempt);
        break;
    }
    if (chosen < size()) break;
    // Primaries that are up but full are waited for (the queue), not replaced by backups. Only
    // at the first attempt: a retry (its connect failed) is not queued, and takes what has room.
    if (!first_attempt) continue;
    bool waitable = false;
    for (std::size_t i = 0; i < size() && !waitable; ++i) waitable = available(i, tier);
    if (waitable) break;
  }
  return chosen;
}

std::size_t BackendPool::pick_round_robin(std::uint64_t skip, bool first_attempt,
                                          bool scheduled_tier) {
  if (backends_.empty()) return size();
  // Relaxed: the cursor only spreads choices; a race gives two clients the same turn.
  // A retry takes no turn: the turns stay the clients', so a dead backend that is not marked
  // down (no health checks) costs each client at most one failed connect, not all.
  const std::uint64_t turn = first_attempt ? cursor_->fetch_add(1, std::memory_order_relaxed)
                                           : retry_cursor_->fetch_add(1, std::memory_order_relaxed);
  if (first_attempt && scheduled_tier && !schedule_.empty()) {
    const std::size_t scheduled = schedule_[turn % schedule_.size()];
    if (eligible(scheduled, skip)) return scheduled;
  }
  // The scheduled backend is down (or this is a retry, or the backups' turn): one of the
  // eligible others, by weight at random -- handing its turn to the next in the schedule would
  // double that one's share.
  // Eligibility is read once: other workers change it (a backend fills or empties), and the
  // ticket must fall on one of the backends that made up `total`. (One that fills meanwhile
  // fails pick()'s reservation and is passed over there.)
  std::uint64_t candidates = 0;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    if (!eligible(i, skip)) continue;
    candidates |= std::uint64_t{1} << i;
    total += weights_[i];
  }
  if (total == 0) return size();
  std::uint64_t ticket = mix(turn) % total;
  for (std::size_t i = 0; i < size(); ++i) {
    if ((candidates & (std::uint64_t{1} << i)) == 0) continue;
    if (ticket < weights_[i]) return i;
    ticket -= weights_[i];
  }
  return size();
}

std::size_t BackendPool::pick_least_connections(std::uint64_t skip, bool first_attempt) {
  if (backends_.empty()) return size();
  // The fewest connections per unit of weight: a*w_b < b*w_a, without dividing. Each count is
  // read once (other workers change them) and the tied backends kept.
  std::size_t best = size();
  std::uint64_t best_active = 0;
  std::uint64_t ties = 0;   // by bit: the backends as good as `best`
  std::uint64_t total = 0;  // their weights
  for (std::size_t i = 0; i < size(); ++i) {
    if (!eligible(i, skip)) continue;
    const std::uint64_t active = backends_[i]->active.load(std::memory_order_relaxed);
    const std::uint64_t mine = active * (best == size() ? 1 : weights_[best]);
    const std::uint64_t theirs = best == size() ? 0 : best_active * weights_[i];
    if (best == size() || mine < theirs) {
      best = i;
      best_active = active;
      ties = std::uint64_t{1} << i;
      total = weights_[i];
    } else if (mine == theirs) {
      ties |= std::uint64_t{1} << i;
      total += weights_[i];
    }
  }
  if (best == size() || (ties & (ties - 1)) == 0 || total == 0) return best;
  // Ties -- every backend, while connections do not overlap -- go by weight at random, as
  // round_robin's fallback does: taken in turn they ignored the weights, and with the retries
  // taking turns too, every client with two backends began with the same one (a dead backend
  // that is not marked down cost each client a failed connect). A retry takes no turn of the
  // clients' (see pick_round_robin).
  const std::uint64_t turn = first_attempt ? cursor_->fetch_add(1, std::memory_order_relaxed)
                                           : retry_cursor_->fetch_add(1, std::memory_order_relaxed);
  std::uint64_t ticket = mix(turn) % total;
  for (std::size_t i = 0; i < size(); ++i) {
    if ((ties & (std::uint64_t{1} << i)) == 0) continue;
    if (ticket < weights_[i]) return i;
    ticket -= weights_[i];
  }
  return best;
}

std::size_t BackendPool::pick_source(const zio::SocketAddress& client, std::uint64_t tier,
                                     std::uint64_t full, bool own_only) {
  // Weighted rendezvous hashing: each backend scores the client; the best score wins. A
  // backend going down (or leaving the pool on a reload) moves only its own clients.
  const std::uint64_t key = hash_ip(client);
  std::size_t best = size();
  double best_score = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    // Full or not, the client's own is its own; a retry takes the best one with room.
    if (own_only ? !available(i, tier) : !eligible(i, tier | full)) continue;
    const Backend& b = *backends_[i];
    const std::uint64_t h = mix(key ^ b.hash);
    const double unit = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
    const double score = -static_cast<double>(weights_[i]) / std::log(unit);
    if (best == size() || score > best_score) {
      best = i;
      best_score = score;
    }
  }
  if (best < size() && ((full >> best) & 1 || !has_room(best))) return size();
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

bool BackendPool::any_up() const {
  for (std::size_t i = 0; i < size(); ++i) {
    if (backends_[i]->up.load(std::memory_order_relaxed) && ((drained_ >> i) & 1) == 0) return true;
  }
  return false;
}

bool BackendPool::saturated() const {
  bool any = false;
  for (std::size_t i = 0; i < size(); ++i) {
    const Backend& b = *backends_[i];
    if (!b.up.load(std::memory_order_relaxed) || (drained_ >> i) & 1) continue;
    if (limits_[i] == 0 || b.active.load(std::memory_order_relaxed) < limits_[i]) return false;
    any = true;
  }
  return any;
}

std::size_t BackendPool::up_count() const {
  std::size_t n = 0;
  for (const Backend* b : backends_) n += b->up.load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

}  // namespace zap::proxy
