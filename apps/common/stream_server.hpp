// StreamServer: a daemon's TCP listeners and their acceptors on a zell Runtime -- the part every
// zap TCP daemon shares: bind, accept (shard per core or one shared acceptor), admit up to a
// limit, hand each connection to the daemon, and drain at shutdown.
//
//   StreamServer server("http", addresses, AcceptMode::kPerWorker, workers, max_conns, counters);
//   write_port_file(path, server.bound_addresses());             // port 0 resolved
//   server.start(runtime,
//                [&](zio::UniqueFd s, ConnectionGate::Ticket t, std::size_t worker,
//                    std::size_t listener) { return serve(std::move(s), std::move(t), worker); },
//                [](zio::UniqueFd s) { return lingering_close(std::move(s)); });
//   ... SIGTERM ...
//   server.stop_accepting();                 // acceptors cancelled, listeners closed
//   bool clean = server.drain(grace);        // open connections finish, up to `grace`
//
// Accept modes: per_worker gives every worker its own SO_REUSEPORT listener per address and an
// acceptor pinned to it; the kernel spreads connections over them and each connection stays on
// its acceptor's worker. shared has one listener per address and one acceptor, which deals
// connections round-robin over the workers. Either way `serve` runs pinned to one worker (it is
// told which) and never migrates: its socket lives in that worker's IO loop. It is also told which
// listener accepted the connection (its index in `addresses`).
// Over the limit, `refuse` gets the socket instead (also pinned). Accept errors (EMFILE, ENFILE,
// ENOBUFS) are counted, logged, and answered by a 50 ms pause instead of a spin.
// Thread-safety: construct, start, stop_accepting, drain from the main thread; hurry(),
// set_max_connections() and open_connections() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <zap/zell/join_handle.hpp>
#include <zap/zell/runtime.hpp>
#include <zap/zio/address.hpp>
#include <zap/zio/fd.hpp>
#include <zap/zio/socket.hpp>

#include "config_reader.hpp"
#include "connection_gate.hpp"
#include "counters.hpp"
#include "listen_socket.hpp"
#include "log_throttle.hpp"

namespace zap::app {

enum class AcceptMode { kPerWorker, kShared };

// Reads "accept": "per_worker" | "shared" (default per_worker).
AcceptMode read_accept_mode(JsonReader& root);
AcceptMode parse_accept_mode(const std::string& text);  // a value CLI11 has already checked

class StreamServer {
 public:
  using Serve = std::function<zell::Task<void>(zio::UniqueFd socket, ConnectionGate::Ticket ticket,
                                               std::size_t worker, std::size_t listener)>;
  // Runs on `worker` (the one the connection would have had).
  using Refuse = std::function<zell::Task<void>(zio::UniqueFd socket, std::size_t worker)>;

  // Binds and listens now (start-up: throws std::runtime_error naming the address). `accepted`:
  // TCP_NODELAY and keepalive, set on each listener before listen() and inherited by every
  // socket it accepts, which saves setsockopt calls on every connection.
  StreamServer(std::string name, const std::vector<zio::SocketAddress>& addresses, AcceptMode mode,
               std::size_t workers, std::int64_t max_connections, Counters& counters,
               const AcceptedOptions& accepted = {});
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // "127.0.0.1:41234" for each address, in the order given (port 0 resolved).
  std::vector<std::string> bound_addresses() const;
  AcceptMode mode() const { return mode_; }

  // The descriptors one connection holds, its own socket included (default 1; zap-proxy: 2, a
  // backend socket each). `settled_by_ticket`: the connection calls its Ticket's settle() once it
  // has opened them (zap-proxy, after its backend connect); until then, near the limit, the
  // acceptors leave it what it still needs -- with its first bytes to read, or on another worker,
  // it may open them long after the acceptor has gone on. Before start().
  void set_descriptors_per_connection(int count, bool settled_by_ticket = false) noexcept {
    descriptors_per_connection_ = count;
    settled_by_ticket_ = settled_by_ticket;
  }

  void start(zell::Runtime& runtime, Serve serve, Refuse refuse);
  void stop_accepting();
  // Waits up to `grace` for the open connections to end; true if they all did.
  bool drain(std::chrono::milliseconds grace);
  // Cuts a drain() short (a second stop signal).
  void hurry() noexcept { gate_.end_wait(); }
  // The new limit admits (or holds back) the next connections at once; open ones stay. The
  // listen backlog follows it (listen(2) again on each listener: Linux updates a listening
  // socket's backlog in place), so that a raised limit's burst is queued, not dropped.
  void set_max_connections(std::int64_t limit) noexcept;
  std::int64_t open_connections() const noexcept { return gate_.open(); }

 private:
  struct Listener {
    std::vector<zio::UniqueFd> sockets;  // one per worker (per_worker), else one
    std::string bound;
  };

  // At most this many connections are accepted per wake-up of an acceptor: one awaited accept,
  // then direct accept4() calls until the backlog is empty (nginx's multi_accept, HAProxy's
  // tune.maxaccept). One accept per wake-up admitted one connection per loop turn, and under
  // load a burst of thousands of new connections waited seconds in the backlog.
  static constexpr int kAcceptBurst = 1024;
  // The pause after a failed accept (EMFILE...), and between looks for the descriptors of a
  // connection held near the limit: short enough that a client waits little once one frees.
  static constexpr std::chrono::milliseconds kAcceptRetry{50};

  // As HAProxy's default: a backlog of max_connections, at least 1024 (the kernel caps it at
  // net.core.somaxconn), so that a burst of connections up to the limit is queued, not dropped
  // (a dropped SYN costs its client a second or more before it tries again).
  static int backlog_for(std::int64_t max_connections) noexcept;

  zell::Task<void> accept_loop(int listen_fd, std::size_t listener, std::size_t pinned_worker,
                               bool pinned);
  // One accept4() without waiting: the socket, or none (EAGAIN: the backlog is empty; EMFILE...).
  static zio::UniqueFd accept_now(int listen_fd) noexcept;
  // Hands an accepted connection to its worker: served (true), or refused over max_connections.
  // Serves the connection, or refuses it over max_connections (and says so, at most once per
  // `refusals` interval: an operator must learn the limit is reached, not from a counter only).
  // `owes`: counted in owed_ until its ticket is settled (see set_descriptors_per_connection).
  bool admit(zio::UniqueFd socket, std::size_t listener, std::size_t pinned_worker, bool pinned,
             bool owes, LogThrottle& refusals);

  std::string name_;
  AcceptMode mode_;
  std::size_t workers_;
  std::atomic<std::size_t> next_worker_{0};  // shared mode: round-robin (relaxed: a hint)
  Counters& counters_;
  ConnectionGate gate_;
  // Guards the listeners' sockets between stop_accepting() (which closes them) and
  // set_max_connections() on another thread (which re-listens on them): a closed number could
  // already name another file.
  std::mutex listeners_mutex_;
  std::vector<Listener> listeners_;
  int backlog_;  // the listeners' current backlog; under listeners_mutex_
  int descriptors_per_connection_ = 1;
  bool settled_by_ticket_ = false;
  // Connections admitted near the limit that have not opened their other descriptors yet (every
  // acceptor's: they share the descriptor table).
  std::atomic<std::int64_t> owed_{0};
  Serve serve_;
  Refuse refuse_;
  std::vector<zell::JoinHandle<void>> acceptors_;
};

}  // namespace zap::app
