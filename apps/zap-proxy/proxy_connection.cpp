#include "proxy_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/runtime.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zimalloc/zimalloc.hpp>
#include <zap/zio/socket.hpp>

#include "adaptive_buffer.hpp"
#include "connection_log.hpp"
#include "lingering_close.hpp"
#include "log_throttle.hpp"
#include "proxy_protocol.hpp"
#include "receive_proxy_header.hpp"
#include "tls_client_hello.hpp"
#include "unsent_bytes.hpp"

namespace zap::proxy {

namespace {

using std::chrono::milliseconds;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// After a read saw the end of a stream: whether a reset ended it, not a FIN. The socket's pending
// error tells: ECONNRESET for a reset; EPIPE for a reset that came after the peer's FIN (a peer
// that closed fully, then got more bytes: its stream did end cleanly); none if a write has
// already taken the error (see Relay::gone).
bool ended_by_reset(int fd) {
  int error = 0;
  socklen_t size = sizeof(error);
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 &&
         (error == ECONNRESET || error == ECONNABORTED);
}

// A write's or read's error that says the peer reset (EPIPE is not one: the peer may have ended
// its stream with a FIN and closed, which reads report as a clean end).
bool reset_by_peer(const zio::Result& r) {
  return r.raw() == -ECONNRESET || r.raw() == -ECONNABORTED;
}

bool peer_went_away(const zio::Result& r) {
  return r.raw() == -ECONNRESET || r.raw() == -EPIPE || r.raw() == -ECONNABORTED;
}

// Shared by the two directions of one connection. Both run on the same worker (spawn_local), one
// at a time, so plain fields need no synchronisation.
struct Relay {
  int client = -1;
  int server = -1;
  Backend* backend = nullptr;
  app::WorkerCounters* counters = nullptr;
  const ProxyShared* shared = nullptr;
  ConnectionRecord* record = nullptr;  // bytes relayed
  std::int64_t last_activity_ns = 0;   // the last byte received or fully sent, either way
  int writes_in_flight = 0;            // a write in progress is activity, however slow
  bool timed_out = false;              // idle: both directions were ended at once
  // Index 0: the client, 1: the server. `gone`: that side reset (its recv or a write to it
  // failed with ECONNRESET: the kernel reports a reset to only one call, so whichever saw it
  // records it here).
  // `reset`: that side is closed with a reset too, once it has taken what was relayed, because
  // the other side's stream ended in one.
  bool gone[2] = {false, false};
  bool reset[2] = {false, false};
  // The first failure that ended a side (kDone: none); a timeout is told by timed_out instead.
  ConnectionEnd failure = ConnectionEnd::kDone;
  // The two directions' tasks (index: to_backend), so that one can end the other.
  zell::JoinHandle<void>* direction[2] = {nullptr, nullptr};
};

struct ZimallocFree {
  void operator()(void* p) const noexcept { zimalloc::free(p); }
};

// Counts and logs, and keeps the first failure as how the connection ended (`end`: which side
// failed); never throws (the relay's state must not be unwound from under the other direction).
void note_failure(const zio::Result& r, Relay& relay, ConnectionEnd end) noexcept {
  if (r.raw() == -ECANCELED) return;
  if (relay.failure == ConnectionEnd::kDone && r.raw() != -ETIMEDOUT) relay.failure = end;
  relay.counters->add(relay.counters->errors);
  try {
    if (peer_went_away(r)) {
      spdlog::debug("proxy: a peer went away: {}", r.error().message());
    } else {
      spdlog::info("proxy: relay error: {}", r.error().message());
    }
  } catch (...) {
    // out of memory for a log line: the count above stands
  }
}

// Writes all of [data, data + len) to `to`; the result is len, or the error that ended it.
// `idle` (0: none) bounds a wait in which the peer takes nothing. The kernel says a socket is
// writable again only once a good part of its (up to megabytes of) send buffer has drained, which
// a slow but steady reader takes longer than that to do: its stream was cut, and as the client
// got a FIN it looked complete. So a wait that times out is measured across one more: if the
// socket's queue shrank (or it took more bytes) the peer is reading, and the write goes on. A
// peer that takes nothing is cut after one to two idle times. No system call is added while
// writes finish in time.
zell::Task<zio::Result> write_while_taken(int to, void* data, std::size_t len,
                                          std::chrono::nanoseconds idle) {
  std::size_t done = 0;
  int queued = -1;  // the queue when a wait timed out (-1: not measuring)
  while (done < len) {
    auto write = zell::writev_all(to, {static_cast<char*>(data) + done, len - done}, idle);
    const zio::Result r = co_await write;
    if (r) break;
    done += write.sent();
    if (r.raw() != -ETIMEDOUT) co_return r;
    const int now_queued = app::unsent_bytes(to);
    const bool taken = write.sent() > 0 || (queued >= 0 && now_queued >= 0 && now_queued < queued);
    if (now_queued < 0 || (queued >= 0 && !taken)) co_return r;  // nothing taken for a whole wait
    queued = now_queued;
  }
  co_return zio::Result(static_cast<int>(len));
}

// One direction: everything received from `from` is sent to `to`, in order.
//   `from` sends a FIN:   `to` gets a FIN; the other direction goes on (half-close).
//   `from` resets:        `to` gets a reset, once it has acknowledged all that was relayed (as
//                         HAProxy mimics on one side what it got on the other: a FIN would
//                         make a cut stream look complete), and the other direction, which
//                         could only write to the dead `from`, is ended.
//   a write to `to` fails: this direction ends; the other goes on delivering what `to` had
//                         already sent (it ends when `to`'s stream does).
//   idle timeout:         both directions end.
// Never throws.
zell::Task<void> pump(Relay& relay, bool to_backend) {
  const int from = to_backend ? relay.client : relay.server;
  const int to = to_backend ? relay.server : relay.client;
  const ConnectionEnd from_failed =
      to_backend ? ConnectionEnd::kClientError : ConnectionEnd::kBackendError;
  const ConnectionEnd to_failed =
      to_backend ? ConnectionEnd::kBackendError : ConnectionEnd::kClientError;
  zell::JoinHandle<void>* other = relay.direction[to_backend ? 0 : 1];
  app::AdaptiveBuffer buffer(relay.shared->buffer_size, relay.shared->max_buffer_size);
  if (!buffer.ok()) {
    note_failure(zio::Result(-ENOMEM), relay, ConnectionEnd::kNoMemory);
    ::shutdown(to, SHUT_WR);
    other->cancel();
    co_return;
  }
  for (;;) {
    const std::int64_t idle_ns =
        relay.shared->idle_timeout_ms.load(std::memory_order_relaxed) * 1'000'000;
    // Wait no longer than the connection may stay idle from its last activity (0: no limit).
    const std::int64_t quiet_ns = monotonic_ns() - relay.last_activity_ns;
    const std::chrono::nanoseconds wait(
        idle_ns == 0 ? 0 : std::max<std::int64_t>(idle_ns - quiet_ns, 1'000'000));
    const zio::Result got = co_await zell::recv(from, buffer.data(), buffer.size(), wait);
    if (got.raw() == -ETIMEDOUT) {
      // Quiet here; the connection is idle only if the other direction was quiet too. A quiet
      // direction needs no grown buffer meanwhile.
      if (relay.writes_in_flight > 0 || monotonic_ns() - relay.last_activity_ns < idle_ns) {
        buffer.release_growth();
        continue;
      }
      spdlog::debug("proxy: connection idle for {} ms, closing", idle_ns / 1'000'000);
      relay.timed_out = true;
      other->cancel();
      co_return;
    }
    const int from_side = to_backend ? 0 : 1;
    const int to_side = 1 - from_side;
    if (got && got.bytes() == 0) {
      // The end of `from`'s stream: a FIN -- or a reset that a write to `from` reported first,
      // after which reads see only an end (ended_by_reset: unless that write took the error).
      if (relay.gone[from_side] || ended_by_reset(from)) {
        relay.gone[from_side] = true;
        relay.reset[to_side] = true;
        note_failure(zio::Result(-ECONNRESET), relay, from_failed);
        other->cancel();  // it could only write to `from`, which is gone
      } else {
        ::shutdown(to, SHUT_WR);  // pass the end on, after everything relayed so far
      }
      co_return;
    }
    if (!got) {
      if (got.raw() != -ECANCELED) {
        if (reset_by_peer(got)) relay.gone[from_side] = true;
        relay.reset[to_side] = true;
      }
      note_failure(got, relay, from_failed);
      other->cancel();  // it could only write to `from`, which is gone
      co_return;
    }
    relay.last_activity_ns = monotonic_ns();
    ++relay.writes_in_flight;
    // The write's own deadline: a peer that takes nothing for the idle time is gone.
    const zio::Result sent = co_await write_while_taken(to, buffer.data(), got.bytes(),
                                                        std::chrono::nanoseconds(idle_ns));
    --relay.writes_in_flight;
    relay.last_activity_ns = monotonic_ns();
    if (!sent) {
      note_failure(sent, relay, to_failed);  // (a timeout: the connection's end says idle)
      if (reset_by_peer(sent)) relay.gone[to_backend ? 1 : 0] = true;
      if (sent.raw() == -ETIMEDOUT) {
        relay.timed_out = true;
        other->cancel();
      }
      co_return;  // `to` takes no more; the other direction may still have bytes from it
    }
    app::WorkerCounters& c = *relay.counters;
    if (to_backend) {
      c.add(c.bytes_in, got.bytes());
      relay.backend->bytes_to_backend.fetch_add(got.bytes(), std::memory_order_relaxed);
      relay.record->bytes_up += got.bytes();
    } else {
      c.add(c.bytes_out, got.bytes());
      relay.backend->bytes_from_backend.fetch_add(got.bytes(), std::memory_order_relaxed);
      relay.record->bytes_down += got.bytes();
    }
    buffer.adapt(got.bytes());  // (every byte of it is sent: the buffer may move)
  }
}

// Closes `socket` with a reset (SO_LINGER 0) once its peer has acknowledged every byte sent to it
// (SIOCOUTQ: unsent and unacknowledged bytes), so that the reset ends a stream whose bytes all
// arrived rather than cutting them; a peer that takes nothing more for `patience` is reset
// anyway.
zell::Task<void> reset_once_delivered(zio::UniqueFd socket, std::chrono::nanoseconds patience) {
  int left = app::unsent_bytes(socket.get());
  std::int64_t progress_ns = monotonic_ns();
  milliseconds pause(1);  // doubles to 64 ms: a peer that reads slowly costs few wake-ups
  while (left > 0) {
    const int before = left;
    co_await zell::sleep_for(pause);
    pause = std::min(pause * 2, milliseconds(64));
    left = app::unsent_bytes(socket.get());
    if (left < 0) break;
    if (left < before) progress_ns = monotonic_ns();
    if (monotonic_ns() - progress_ns >= patience.count()) break;
  }
  const linger abort_on_close{1, 0};
  (void)::setsockopt(socket.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  co_await zell::close(socket.release());
}

// Closes one side of a relay that did not time out (`side`: 0 the client, 1 the server): what the
// peer still sends is drained first (lingering_close), so that closing does not reset what it was
// sent last -- unless the other side reset, when this one is reset too once it has taken what
// was relayed. A side that reset itself is closed at once: nothing reaches it any more (and its
// send queue count, which reset_once_delivered waits on, may never drop).
zell::Task<void> close_relayed(zio::UniqueFd socket, const Relay& relay, int side,
                               std::chrono::nanoseconds patience) {
  if (relay.gone[side]) {
    co_await zell::close(socket.release());
  } else if (relay.reset[side]) {
    co_await reset_once_delivered(std::move(socket), patience);
  } else {
    co_await app::lingering_close(std::move(socket));
  }
}

// Holds a backend's count of connections (picked or relaying), taken by BackendPool::pick(),
// until destroyed; then the room it leaves goes to a client waiting in the pool's queue.
class ActiveConnection {
 public:
  ActiveConnection(Backend& backend, PoolQueue& queue) : backend_(&backend), queue_(&queue) {}
  ActiveConnection(ActiveConnection&& other) noexcept
      : backend_(std::exchange(other.backend_, nullptr)), queue_(other.queue_) {}
  ActiveConnection& operator=(ActiveConnection&&) = delete;
  ~ActiveConnection() {
    if (backend_ == nullptr) return;
    backend_->active.fetch_sub(1, std::memory_order_relaxed);
    queue_->slot_freed();  // (publishes the decrement to the waiters it may wake)
  }
  Backend* backend() const { return backend_; }

 private:
  Backend* backend_;
  PoolQueue* queue_;  // the route's, which the connection holds
};

enum class NoBackend { kNone, kQueueTimedOut, kQueueFull, kClientLeft };

// A socket for a backend. Out of descriptors (EMFILE, ENFILE) it waits for one, looking every
// 50 ms for as long as a connect may take, while the client is there. Near the limit the
// acceptors hold new clients back until a connection's backend socket is open; but with an
// acceptor that deals clients to other workers, or several acceptors, or a client whose first
// bytes come before its backend (a PROXY header, SNI), a client accepted meanwhile may take the
// last descriptor. The one that got in first is then served once a connection ends, not closed.
zell::Task<zio::UniqueFd> open_backend_socket(int family, int client_socket, milliseconds patience,
                                              std::error_code& ec) {
  const auto until = std::chrono::steady_clock::now() + patience;
  for (;;) {
    zio::UniqueFd socket = zio::open_socket(family, SOCK_STREAM, ec);
    const bool short_of_descriptors = ec.value() == EMFILE || ec.value() == ENFILE;
    if (!short_of_descriptors || std::chrono::steady_clock::now() >= until) co_return socket;
    pollfd client{client_socket, POLLRDHUP, 0};
    if (::poll(&client, 1, 0) > 0 && (client.revents & (POLLERR | POLLHUP)) != 0) {
      co_return socket;  // the client reset or closed for good: nobody to wait for
    }
    co_await zell::sleep_for(milliseconds(50));
  }
}

// A connected socket to a backend, trying up to 1 + retries of them; null if none answered.
// A backend counts the connection as active from its pick, so that least_connections sees the
// connects in progress (a backend that swallows SYNs must not attract every new client).
// When every backend is at its max_connections, the first attempt waits in the route's queue
// (for at most its queue_timeout_ms); `why` says so if that is how it ends. `picked_ns` (if
// given): when the first pick ended, the wait in the queue included.
zell::Task<zio::UniqueFd> connect_backend(ProxyShared& shared, const PoolRoute& route,
                                          const zio::SocketAddress& client, int client_socket,
                                          app::WorkerCounters& counters,
                                          std::optional<ActiveConnection>& chosen, NoBackend& why,
                                          std::int64_t* picked_ns) {
  BackendPool& pool = *route.pool;
  std::uint64_t tried = 0;
  const std::int64_t attempts = 1 + shared.retries.load(std::memory_order_relaxed);
  const milliseconds timeout(shared.connect_timeout_ms.load(std::memory_order_relaxed));
  const bool queueing = route.queue_timeout_ms > 0;
  for (std::int64_t attempt = 0; attempt < attempts; ++attempt) {
    // Clients already waiting come first: a newcomer joins the end of their line.
    const bool line_ahead = queueing && attempt == 0 && route.queue->waiting() > 0;
    Backend* backend = line_ahead ? nullptr : pool.pick(client, tried);
    // Nothing free but something up: all full (or room just came back, which the wait sees).
    if (backend == nullptr && attempt == 0 && queueing && pool.any_up()) {
      const QueueWait waited = co_await route.queue->wait_for_backend(
          pool, {client, client_socket, route.abort_on_close}, tried,
          milliseconds(route.queue_timeout_ms), route.max_queue);
      backend = waited.backend;
      if (waited.outcome == QueueWait::kTimedOut) why = NoBackend::kQueueTimedOut;
      if (waited.outcome == QueueWait::kQueueFull) why = NoBackend::kQueueFull;
      if (waited.outcome == QueueWait::kClientLeft) why = NoBackend::kClientLeft;
    }
    if (attempt == 0 && picked_ns != nullptr) *picked_ns = log_clock_ns();
    if (backend == nullptr) break;
    ActiveConnection active(*backend, *route.queue);
    std::error_code ec;
    zio::UniqueFd socket =
        co_await open_backend_socket(backend->address.family(), client_socket, timeout, ec);
    if (ec) {  // EMFILE and friends: this client cannot be served now
      // One line per 5 s per worker: a full descriptor table fails every client the same way.
      static thread_local app::LogThrottle shortage_log(std::chrono::seconds(5));
      if (const auto skipped = shortage_log.admit()) {
        spdlog::warn("proxy: cannot open a socket to a backend: {}{}", ec.message(),
                     app::LogThrottle::left_out(*skipped));
      }
      break;
    }
    const zio::Result connected = co_await zell::connect(socket.get(), backend->address, timeout);
    if (connected) {
      pool.connect_succeeded(*backend);
      chosen.emplace(std::move(active));
      co_return socket;
    }
    counters.add(counters.extra[kConnectFailures]);
    spdlog::debug("proxy: connect to {} failed: {}", backend->name, connected.error().message());
    if (local_shortage(connected.raw())) {
      // Out of local ports or kernel memory: the same for every backend, and no verdict on this
      // one (or a shortage here would mark the whole pool down).
      co_await zell::close(socket.release());
      break;
    }
    if (pool.connect_failed(*backend)) {
      spdlog::warn("proxy: backend {} is down (connects failing: {})", backend->name,
                   connected.error().message());
    }
    co_await zell::close(socket.release());
  }
  co_return zio::UniqueFd();
}

}  // namespace

std::vector<app::ExtraCounter> proxy_counters() {
  return {
      {"backend_connect_failures", "Connects to a backend that failed", false},
      {"no_backend", "Clients closed because no backend could be reached", false},
      {"queue_timeouts", "Clients closed after waiting queue_timeout_ms for a full pool", false},
      {"queue_full", "Clients closed at once: their pool and its queue (max_queue) were full",
       false}};
}

ProxyShared::ProxyShared(const ProxySettings& settings)
    : connect_timeout_ms(settings.limits.connect_timeout_ms),
      idle_timeout_ms(settings.limits.idle_timeout_ms),
      retries(settings.limits.retries),
      buffer_size(static_cast<std::size_t>(settings.buffer_size)),
      max_buffer_size(static_cast<std::size_t>(settings.max_buffer_size)) {}

void ProxyShared::set_limits(const ProxyLimits& limits) noexcept {
  connect_timeout_ms.store(limits.connect_timeout_ms, std::memory_order_relaxed);
  idle_timeout_ms.store(limits.idle_timeout_ms, std::memory_order_relaxed);
  retries.store(limits.retries, std::memory_order_relaxed);
}

namespace {

// Where a client whose first bytes are `first` (growing by `size` as they arrive) goes: the
// index of the route its TLS ClientHello's server name matches, else routing.sni_pools.size()
// (the listener's pool); kClientGone if the client went away first. Waits for the whole
// ClientHello until `deadline_ns` (then the listener's pool). The name asked for is copied to
// `server_name` if not null.
constexpr std::size_t kClientGone = SIZE_MAX;

zell::Task<std::size_t> route_by_server_name(int client, const Routing& routing,
                                             std::int64_t deadline_ns, char* first,
                                             std::size_t capacity, std::size_t& size,
                                             std::string* server_name) {
  const std::size_t fallback = routing.sni_pools.size();
  for (;;) {
    const app::ClientHelloSni sni = app::find_client_hello_sni({first, size});
    if (sni.state == app::ClientHelloSni::kFound) {
      const std::size_t route = routing.sni.find(sni.name, fallback);
      spdlog::debug("proxy: a client asks for {}: {}", sni.name,
                    route < fallback ? "routed by name" : "no route, the default");
      if (server_name != nullptr) server_name->assign(sni.name);
      co_return route;
    }
    const std::int64_t left = deadline_ns - monotonic_ns();
    // Not TLS, no server name, or too slow to say: the listener's pool, with what came.
    if (sni.state == app::ClientHelloSni::kNone || left <= 0 || size == capacity) {
      co_return fallback;
    }
    const zio::Result got =
        co_await zell::recv(client, first + size, capacity - size, std::chrono::nanoseconds(left));
    if (got.raw() == -ETIMEDOUT) co_return fallback;
    if (!got) co_return kClientGone;
    // Closed its side before the ClientHello was whole: what it sent still goes, to the
    // listener's pool, followed by its FIN (the relay reads that end again).
    if (got.bytes() == 0) co_return size > 0 ? fallback : kClientGone;
    size += got.bytes();
  }
}

// The connection's record, and its line in the connection log when the connection ends,
// however it ends: at a return, or when the runtime destroys the frame at shutdown.
class LoggedConnection {
 public:
  explicit LoggedConnection(ConnectionLog* log) : log_(log) {
    if (log_ == nullptr) return;
    ::clock_gettime(CLOCK_REALTIME, &record.accepted);
    record.accepted_ns = log_clock_ns();
  }
  LoggedConnection(const LoggedConnection&) = delete;
  LoggedConnection& operator=(const LoggedConnection&) = delete;
  ~LoggedConnection() {
    if (log_ == nullptr) return;
    try {
      log_->append(record, log_clock_ns());
    } catch (...) {
      // out of memory for a log line: the connection's counters stand
    }
  }

  bool enabled() const { return log_ != nullptr; }
  void ended(ConnectionEnd end) { record.end = end; }
  void routed(const std::string& pool) {
    record.pool = &pool;
    if (enabled()) record.routed_ns = log_clock_ns();
  }

  ConnectionRecord record;

 private:
  ConnectionLog* const log_;
};

}  // namespace

zell::Task<void> refuse_connection(zio::UniqueFd client, ConnectionLog* log) {
  {
    LoggedConnection logged(log);  // (its line is written when this block ends)
    if (logged.enabled()) {
      std::error_code ec;
      logged.record.client = zio::peer_address(client.get(), ec);
      logged.record.local = zio::local_address(client.get(), ec);
    }
    logged.ended(ConnectionEnd::kRefused);
  }
  co_await zell::close(client.release());
}

zell::Task<void> proxy_connection(zio::UniqueFd client, app::ConnectionGate::Ticket ticket,
                                  ProxyShared& shared, std::shared_ptr<const Routing> routing,
                                  bool accept_proxy, ConnectionLog* log) {
  LoggedConnection logged(log);
  ConnectionRecord& record = logged.record;
  app::WorkerCounters& counters = ticket.counters();
  std::error_code ec;
  // Who the client is ("source" balance, send_proxy, the log), and the address it connected to
  // (send_proxy, the log): read when first needed, a syscall most connections never make.
  zio::SocketAddress peer = zio::peer_address(client.get(), ec);
  zio::SocketAddress local;
  bool local_known = false;
  auto local_address = [&]() -> const zio::SocketAddress& {
    if (!local_known) local = zio::local_address(client.get(), ec);
    local_known = true;
    return local;
  };
  // What the client sent behind its PROXY header (accept_proxy): its first bytes, relayed first.
  // Routing by server name needs room for a whole ClientHello record besides.
  const bool by_name = !routing->sni.empty();
  char small[app::kMaxParsedProxyHeader];
  const std::size_t early_capacity =
      sizeof small + (by_name ? app::kMaxClientHelloRecord : std::size_t{0});
  // (Freed once relayed: ~17 KiB per connection is not kept for its whole life.)
  std::unique_ptr<char[], ZimallocFree> large(
      by_name ? static_cast<char*>(zimalloc::malloc(early_capacity)) : nullptr);
  char* early = by_name ? large.get() : small;
  std::size_t early_size = 0;
  if (logged.enabled()) {
    record.client = peer;
    record.local = local_address();
  }
  if (early == nullptr) {
    logged.ended(ConnectionEnd::kNoMemory);
    counters.add(counters.errors);
    co_await zell::close(client.release());
    co_return;
  }
  // The PROXY header and the ClientHello share one wait: connect_timeout from the accept.
  const std::int64_t first_bytes_deadline_ns =
      monotonic_ns() + shared.connect_timeout_ms.load(std::memory_order_relaxed) * 1'000'000;
  if (accept_proxy) {
    const app::ProxyHeaderReceipt receipt = co_await app::receive_proxy_header(
        client.get(), early, early_capacity, early_size,
        std::chrono::nanoseconds(first_bytes_deadline_ns - monotonic_ns()));
    const app::ProxyHeader& header = receipt.header;
    if (header.state != app::ProxyHeader::kComplete) {
      logged.ended(receipt.silent_close ? ConnectionEnd::kClientLeft
                                        : ConnectionEnd::kBadProxyHeader);
      if (!receipt.silent_close) {  // a TCP probe of the load balancer in front is no error
        counters.add(counters.errors);
        spdlog::debug("proxy: no valid PROXY protocol header from a client ({}); closing",
                      header.reason);
      }
      co_await zell::close(client.release());
      co_return;
    }
    if (!header.source.empty()) {  // LOCAL / UNKNOWN: the connection's own endpoints stand
      peer = header.source;
      local = header.destination;
      local_known = true;
      if (logged.enabled()) {
        record.client = peer;
        record.local = local;
      }
    }
  }
  std::optional<ActiveConnection> active;
  const PoolRoute* route = &routing->fallback;
  if (by_name) {
    const std::size_t by_sni = co_await route_by_server_name(
        client.get(), *routing, first_bytes_deadline_ns, early, early_capacity, early_size,
        logged.enabled() ? &record.server_name : nullptr);
    if (by_sni == kClientGone) {  // gone before it said where it was going
      logged.ended(ConnectionEnd::kClientLeft);
      co_await zell::close(client.release());
      co_return;
    }
    if (by_sni < routing->sni_pools.size()) route = &routing->sni_pools[by_sni];
  }
  logged.routed(route->name);
  NoBackend why = NoBackend::kNone;
  zio::UniqueFd server =
      co_await connect_backend(shared, *route, peer, client.get(), counters, active, why,
                               logged.enabled() ? &record.picked_ns : nullptr);
  ticket.settle();  // its backend socket is open, or it never will be: the acceptors may go on
  if (!server) {
    if (why == NoBackend::kQueueTimedOut) {
      logged.ended(ConnectionEnd::kQueueTimeout);
      counters.add(counters.extra[kQueueTimeouts]);
      spdlog::debug("proxy: every backend of pool {} stayed full for queue_timeout_ms; closing",
                    route->name);
    } else if (why == NoBackend::kClientLeft) {
      logged.ended(ConnectionEnd::kClientLeft);
      spdlog::debug("proxy: a client waiting for pool {} left", route->name);
    } else if (why == NoBackend::kQueueFull) {
      logged.ended(ConnectionEnd::kQueueFull);
      counters.add(counters.extra[kQueueFull]);
      spdlog::debug("proxy: pool {} is full and so is its queue (max_queue); closing", route->name);
    } else {
      logged.ended(ConnectionEnd::kNoBackend);
      counters.add(counters.extra[kNoBackend]);
      spdlog::debug("proxy: no backend reachable; closing the client");
    }
    co_await zell::close(client.release());
    co_return;
  }
  Backend& backend = *active->backend();
  record.backend = &backend.name;
  if (logged.enabled()) record.connected_ns = log_clock_ns();
  backend.connections.fetch_add(1, std::memory_order_relaxed);
  counters.add(counters.requests);
  // Relayed bytes must not wait for Nagle: the endpoints decided when to send them. Keepalive
  // probes find a peer that vanished while the connection is quiet (with idle_timeout_ms 0,
  // nothing else would). The client's socket has both from its listener (ProxyServer).
  (void)zio::set_nodelay(server.get(), true);
  (void)zio::set_keepalive(server.get(), zio::KeepAlive{});

  // Before the relay: the PROXY header for the backend (who the client is, and the address it
  // connected to), then what the client sent behind its own header.
  char header[app::kMaxProxyHeader];
  const app::ProxyProtocol send_proxy = backend.send_proxy.load(std::memory_order_relaxed);
  const std::size_t header_size =
      send_proxy == app::ProxyProtocol::kOff
          ? 0
          : app::write_proxy_header(send_proxy, peer, local_address(), header);
  if (header_size + early_size > 0) {
    const milliseconds timeout(shared.connect_timeout_ms.load(std::memory_order_relaxed));
    const zio::Result sent = co_await zell::writev_all(server.get(), {header, header_size},
                                                       {early, early_size}, timeout);
    if (!sent) {
      logged.ended(ConnectionEnd::kBackendError);
      counters.add(counters.errors);
      spdlog::debug("proxy: first bytes to {} not sent: {}", backend.name, sent.error().message());
      co_await zell::close(server.release());
      co_await zell::close(client.release());
      co_return;
    }
    counters.add(counters.bytes_in, early_size);
    backend.bytes_to_backend.fetch_add(early_size, std::memory_order_relaxed);
    record.bytes_up += early_size;
  }
  large.reset();

  // The record says kShutdown while the relay runs: if the runtime destroys this frame (a stop
  // past shutdown_grace_ms), that is how the connection ended.
  Relay relay{client.get(), server.get(), &backend, &counters, &shared, &record, monotonic_ns()};
  // Both directions are tasks of this worker, so that either can end the other; the relay lives
  // in this frame, so both must have ended before it goes. (Spawned, they first run when this
  // task waits below: relay.direction is filled in by then.)
  zell::JoinHandle<void> up = zell::spawn_local(pump(relay, true));
  zell::JoinHandle<void> down = zell::spawn_local(pump(relay, false));
  relay.direction[1] = &up;
  relay.direction[0] = &down;
  for (zell::JoinHandle<void>* direction : {&up, &down}) {
    try {
      co_await *direction;
    } catch (const zell::TaskCancelled&) {
      // ended by the other direction (or by the runtime's shutdown)
    }
  }
  // The backend counts one connection fewer as soon as its socket is closed, not after the
  // client's lingering close too (its max_connections, least_connections).
  // How it ended: the first side that failed, else quiet for too long, else both streams ended.
  logged.ended(relay.failure != ConnectionEnd::kDone ? relay.failure
               : relay.timed_out                     ? ConnectionEnd::kIdleTimeout
                                                     : ConnectionEnd::kDone);
  if (relay.timed_out) {
    co_await zell::close(server.release());
    active.reset();
    co_await zell::close(client.release());
  } else {
    // (See close_relayed.) How long a peer may take nothing more before it is reset anyway: the
    // idle timeout, at most 10 s (the connection holds its place under max_connections).
    const std::int64_t idle_ms = shared.idle_timeout_ms.load(std::memory_order_relaxed);
    const std::chrono::nanoseconds patience(
        milliseconds(idle_ms > 0 ? std::min<std::int64_t>(idle_ms, 10'000) : 10'000));
    co_await close_relayed(std::move(server), relay, 1, patience);
    active.reset();
    co_await close_relayed(std::move(client), relay, 0, patience);
  }
}

}  // namespace zap::proxy
