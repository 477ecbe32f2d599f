// proxy_connection: one client of zap-proxy -- pick a backend, connect (retrying others when a
// connect fails), then relay bytes both ways until both sides have finished.
//
//   zell::spawn_on_worker(w, proxy_connection(std::move(client), std::move(ticket), shared));
//
// The relay is two directions on the connection's worker, each a spawn_local task with its own
// buffer (buffer_size from zimalloc, grown up to max_buffer_size while a stream fills it: see
// app::AdaptiveBuffer). Bytes go out in the order they came in, each direction
// independently, and every byte received is sent before its direction ends. A FIN is passed on
// as a FIN (shutdown SHUT_WR), so half-closed protocols work; the connection ends when both
// directions have. A peer that resets: the other side gets a FIN after everything relayed, and
// the direction toward the dead peer ends. A write that fails ends only its own direction: what
// the other side still has for us is delivered. The sockets close lingering (FIN, drain), so a
// late byte from a peer never turns the close into a reset that destroys what was sent last.
// idle_timeout applies to the connection: it closes when neither side has moved a byte for that
// long, not when one direction is quiet while the other streams. No backend up, or every connect
// failed: the client is closed at once.
// Connect attempts: 1 + retries, each on a backend not tried yet, each within connect_timeout.
// accept_proxy (the listener's "proxy_protocol"): the client's connection must start with a PROXY
// protocol header (v1/v2) within connect_timeout; the client it names stands for the peer -- in
// "source" balancing and in the header sent on -- and the bytes behind it are relayed as the
// client's first. No valid header: closed before any backend is tried (counted as an error).
// sni_routes (the listener's Routing::sni): the client's first bytes are read until its TLS
// ClientHello is whole (at most connect_timeout), and the server name in it picks the pool; not
// TLS, no name, a name no route has, or too slow: the listener's pool. Nothing is decrypted: the
// bytes read are relayed first, and TLS runs end to end (HAProxy's req.ssl_sni passthrough).
// A backend with send_proxy gets a PROXY protocol header (v1/v2: the client's address and the one
// it connected to) before any of the client's bytes; if that write fails, both sides are closed.
// log (null: none): the worker's connection log gets the connection's line when it ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <zap/zell/task.hpp>
#include <zap/zio/fd.hpp>

#include "backend_pool.hpp"
#include "connection_gate.hpp"
#include "connection_log.hpp"
#include "counters.hpp"
#include "pool_queue.hpp"
#include "proxy_settings.hpp"
#include "server_names.hpp"

namespace zap::proxy {

// zap-proxy's extra counters (app::WorkerCounters::extra), in this order.
enum ProxyCounter : std::size_t {
  kConnectFailures,  // connects to a backend that failed (each retry counts)
  kNoBackend,        // clients closed because no backend could be reached
  kQueueTimeouts,    // clients closed after waiting queue_timeout_ms for a full pool
  kQueueFull,        // clients closed at once: the pool and its queue were full
};
std::vector<app::ExtraCounter> proxy_counters();

// What every connection reads; the atomics are the limits SIGHUP may change (relaxed: each is
// read once per use and orders nothing).
struct ProxyShared {
  explicit ProxyShared(const ProxySettings& settings);
  void set_limits(const ProxyLimits& limits) noexcept;

  std::atomic<std::int64_t> connect_timeout_ms;
  std::atomic<std::int64_t> idle_timeout_ms;
  std::atomic<std::int64_t> retries;
  const std::size_t buffer_size;
  const std::size_t max_buffer_size;
};

// A pool as a listener's connections use it.
struct PoolRoute {
  std::shared_ptr<BackendPool> pool;
  std::string name;
  std::shared_ptr<PoolQueue> queue;   // where clients wait while every backend is full
  std::int64_t queue_timeout_ms = 0;  // how long they may; 0: they are closed at once
  std::int64_t max_queue = 0;         // how many may wait; 0: no bound but max_connections
  bool abort_on_close = false;        // a waiting client's FIN ends its wait (a reset always)
};

// Where a listener's clients go. Built for each config (a reload makes new ones); a connection
// holds the one it started with, and so its pools, until it ends.
struct Routing {
  PoolRoute fallback;  // the listener's "pool": every client not routed below
  // By TLS server name (the listener's "sni_routes"): each name -> an index in sni_pools. Empty:
  // the client's first bytes are not looked at.
  app::ServerNames sni;
  std::vector<PoolRoute> sni_pools;
};

zell::Task<void> proxy_connection(zio::UniqueFd client, app::ConnectionGate::Ticket ticket,
                                  ProxyShared& shared, std::shared_ptr<const Routing> routing,
                                  bool accept_proxy, ConnectionLog* log);

// A client over max_connections: closed at once (a TCP proxy has no protocol to refuse politely
// in), with a "refused" line in the connection log (if any; the address is the direct peer's,
// as no PROXY header is read).
zell::Task<void> refuse_connection(zio::UniqueFd client, ConnectionLog* log);

}  // namespace zap::proxy
