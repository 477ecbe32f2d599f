#include "stream_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>
#include <zap/zell/yield.hpp>

#include "descriptor_room.hpp"
#include "listen_socket.hpp"
#include "log_throttle.hpp"

namespace zap::app {

AcceptMode read_accept_mode(JsonReader& root) {
  return parse_accept_mode(root.choice("accept", {"per_worker", "shared"}, "per_worker"));
}

AcceptMode parse_accept_mode(const std::string& text) {
  return text == "shared" ? AcceptMode::kShared : AcceptMode::kPerWorker;
}

StreamServer::StreamServer(std::string name, const std::vector<zio::SocketAddress>& addresses,
                           AcceptMode mode, std::size_t workers, std::int64_t max_connections,
                           Counters& counters, const AcceptedOptions& accepted)
    : name_(std::move(name)),
      mode_(mode),
      workers_(workers == 0 ? 1 : workers),
      counters_(counters),
      gate_(max_connections),
      backlog_(backlog_for(max_connections)) {
  const bool per_worker = mode_ == AcceptMode::kPerWorker;
  // Every address before any is bound: listeners of this config may overlap ("0.0.0.0:80" and
  // "127.0.0.1:80" share a port, as SO_REUSEPORT sockets of one user may).
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    // (Settings refuse this already -- a config file's listeners with their JSON path, --listen
    // flags by name -- so it guards other callers.)
    for (std::size_t j = 0; j < i; ++j) {
      if (addresses[i].port() != 0 && addresses[i] == addresses[j]) {
        throw std::runtime_error("cannot listen on " + addresses[i].to_string() + " twice");
      }
    }
    if (per_worker) refuse_address_in_use(addresses[i], SOCK_STREAM);
  }
  for (zio::SocketAddress address : addresses) {
    Listener listener;
    for (std::size_t i = 0; i < (per_worker ? workers_ : 1); ++i) {
      listener.sockets.push_back(listen_tcp(address, per_worker, accepted, backlog_));
      // Port 0: the first socket gets a free port; its siblings must share that port.
      if (i == 0) address = bound_address(listener.sockets.front().get());
    }
    listener.bound = address.to_string();
    listeners_.push_back(std::move(listener));
  }
}

StreamServer::~StreamServer() = default;

int StreamServer::backlog_for(std::int64_t max_connections) noexcept {
  return static_cast<int>(std::clamp<std::int64_t>(max_connections, 1024, INT_MAX));
}

void StreamServer::set_max_connections(std::int64_t limit) noexcept {
  gate_.set_limit(limit);
  const std::lock_guard lock(listeners_mutex_);
  const int backlog = backlog_for(limit);
  if (backlog == backlog_) return;
  for (const Listener& listener : listeners_) {
    for (const zio::UniqueFd& socket : listener.sockets) {
      if (::listen(socket.get(), backlog) != 0) {
        spdlog::warn("{}: listen backlog {} on {}: {}", name_, backlog, listener.bound,
                     std::error_code(errno, std::system_category()).message());
        return;  // backlog_ stays: the next change tries every listener again
      }
    }
  }
  backlog_ = backlog;
}

std::vector<std::string> StreamServer::bound_addresses() const {
  std::vector<std::string> out;
  for (const Listener& listener : listeners_) out.push_back(listener.bound);
  return out;
}

void StreamServer::start(zell::Runtime& runtime, Serve serve, Refuse refuse) {
  serve_ = std::move(serve);
  refuse_ = std::move(refuse);
  const bool pinned = mode_ == AcceptMode::kPerWorker;
  for (std::size_t l = 0; l < listeners_.size(); ++l) {
    Listener& listener = listeners_[l];
    for (std::size_t i = 0; i < listener.sockets.size(); ++i) {
      auto task = accept_loop(listener.sockets[i].get(), l, i, pinned);
      acceptors_.push_back(pinned ? runtime.spawn_on_worker(i, std::move(task))
                                  : runtime.spawn(std::move(task)));
    }
    spdlog::info("{}: tcp on {}{}", name_, listener.bound,
                 pinned ? " (" + std::to_string(listener.sockets.size()) + " SO_REUSEPORT sockets)"
                        : std::string(" (shared acceptor)"));
  }
}

zell::Task<void> StreamServer::accept_loop(int listen_fd, std::size_t listener,
                                           std::size_t pinned_worker, bool pinned) {
  // A full descriptor table fails every retry (20 a second): one line per 5 s says so.
  LogThrottle accept_failures(std::chrono::seconds(5));
  LogThrottle refusals(std::chrono::seconds(5));
  LogThrottle short_of_descriptors(std::chrono::seconds(5));
  bool failing = false;  // accept() failed last time: a retry that fails again is no new error
  DescriptorRoom room(descriptors_per_connection_);
  auto owed = [this] { return static_cast<std::uint64_t>(owed_.load(std::memory_order_relaxed)); };
  auto say_short = [&] {
    if (const auto skipped = short_of_descriptors.admit()) {
      spdlog::warn(
          "{}: short of descriptors (a connection needs {}): new connections wait in "
          "the backlog until connections end{}",
          name_, descriptors_per_connection_, LogThrottle::left_out(*skipped));
    }
  };
  bool near_limit = false;  // the last accept was not kPlenty: look before taking the next
  for (;;) {
    // Near the limit, a client is accepted only with room for all it needs (and for what the
    // connections admitted before it still need): else it stays in the backlog, and the
    // descriptors left stay with the connections held (a file to open for zap-http's clients).
    if (near_limit && !room.room_for_next(listen_fd, owed())) {
      say_short();
      do {
        co_await zell::sleep_for(kAcceptRetry);
      } while (!room.room_for_next(listen_fd, owed()));
    }
    zio::Result accepted = co_await zell::accept(listen_fd);
    if (accepted.raw() == -ECANCELED) co_return;
    if (!accepted) {
      // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on a full descriptor table. Counted
      // once per spell, not per retry (20 a second would swamp every other error).
      if (!failing) {
        WorkerCounters& here = counters_.worker(zell::current_worker_index().value_or(0));
        here.add(here.errors);
      }
      failing = true;
      room.forget();  // EMFILE: the limit may have been lowered
      if (const auto skipped = accept_failures.admit()) {
        spdlog::warn("{}: accept failed: {}{}; retrying every 50 ms", name_,
                     accepted.error().message(), LogThrottle::left_out(*skipped));
      }
      co_await zell::sleep_for(kAcceptRetry);
      continue;
    }
    failing = false;
    zio::UniqueFd socket(accepted.fd());
    // The rest of the backlog, now (see kAcceptBurst), while descriptors are plenty. A failure
    // (EAGAIN: empty; EMFILE...) ends the burst; the awaited accept above then waits, or
    // reports it. So does a refusal: at max_connections the others wait in the backlog for a
    // place rather than be accepted only to be refused, each holding a descriptor while its
    // lingering close runs.
    for (int taken = 1;; ++taken) {
      const DescriptorRoom::Verdict room_left = room.after_accept(socket.get());
      if (room_left != DescriptorRoom::kPlenty && !room.rest_free(socket.get(), owed())) {
        // The room looked at before the accept went meanwhile (another acceptor, a connection
        // opening its backend). Closing this connection would not help: the next accept takes
        // the same number, and the whole backlog would be accepted and closed in turn. So it is
        // held, the others wait in the backlog, and it is served once connections end and give
        // descriptors back.
        say_short();
        do {
          co_await zell::sleep_for(kAcceptRetry);
        } while (!room.rest_free(socket.get(), owed()));
      }
      near_limit = room_left != DescriptorRoom::kPlenty;
      const bool owes = settled_by_ticket_ && room_left != DescriptorRoom::kPlenty;
      const bool more = admit(std::move(socket), listener, pinned_worker, pinned, owes, refusals);
      if (room_left != DescriptorRoom::kPlenty) {
        // Near the limit a burst would take descriptors the connections just admitted still
        // need: every client accepted, none served. So one at a time: the admitted connection
        // runs first (on this worker, in per_worker mode, it takes what it needs before its
        // first wait).
        co_await zell::yield();
        break;
      }
      if (!more || taken >= kAcceptBurst) break;
      socket = accept_now(listen_fd);
      if (!socket) break;
    }
  }
}

zio::UniqueFd StreamServer::accept_now(int listen_fd) noexcept {
  for (;;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || (errno != ECONNABORTED && errno != EINTR)) return zio::UniqueFd(fd);
    // ECONNABORTED: that one is gone; the next may be there.
  }
}

bool StreamServer::admit(zio::UniqueFd socket, std::size_t listener, std::size_t pinned_worker,
                         bool pinned, bool owes, LogThrottle& refusals) {
  const std::size_t worker =
      pinned ? pinned_worker : next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_;
  WorkerCounters& counters = counters_.worker(worker);
  std::optional<ConnectionGate::Ticket> ticket = gate_.try_enter(counters);
  if (!ticket) {
    if (const auto skipped = refusals.admit()) {
      spdlog::warn("{}: max_connections ({}) reached, refusing a connection{}", name_,
                   gate_.limit(), LogThrottle::left_out(*skipped));
    }
    zell::spawn_on_worker(worker, refuse_(std::move(socket), worker)).detach();
    return false;
  }
  if (owes) ticket->owe(owed_);
  zell::spawn_on_worker(worker, serve_(std::move(socket), std::move(*ticket), worker, listener))
      .detach();
  return true;
}

void StreamServer::stop_accepting() {
  for (auto& task : acceptors_) task.cancel();
  for (auto& task : acceptors_) {
    try {
      task.get();
    } catch (const zell::TaskCancelled&) {
      // expected: acceptors end only by cancellation
    } catch (const std::exception& e) {
      spdlog::warn("{}: acceptor ended with {}", name_, e.what());
    }
  }
  acceptors_.clear();
  const std::lock_guard lock(listeners_mutex_);
  for (Listener& listener : listeners_) listener.sockets.clear();
}

bool StreamServer::drain(std::chrono::milliseconds grace) {
  gate_.begin_drain();
  return gate_.wait_idle(grace);
}

}  // namespace zap::app
