// ConnectionLog: zap-proxy's connection log (HAProxy's tcplog), one line per client connection,
// written when the connection ends, gathered per worker into an app::LogFile (log_file.hpp):
//
//   127.0.0.1:51234 [04/Dec/2026:05:54:25.123 +0000] 127.0.0.1:9000 web 10.0.0.2:8080 a.test
//   0/0/1/5007 212 1780 done
//
// Fields, "-" where there is nothing to say:
//   client            the client's address and port (the one its PROXY header names, if any)
//   [accepted]        when the connection was accepted, UTC, to the millisecond
//   connected to      the address the client connected to (its PROXY header's destination)
//   pool              the pool it was routed to
//   backend           the backend that took it
//   server name       the TLS server name it asked for (listeners with sni_routes)
//   wait/queue/connect/total  milliseconds spent reading its first bytes (PROXY header,
//                     ClientHello), waiting in its pool's queue for a backend with room (0: none
//                     was full), connecting (retries included), and in all (HAProxy's
//                     Th/Tw/Tc/Tt); -1: not reached
//   bytes up, down    bytes relayed client -> backend, backend -> client
//   end               how it ended (ConnectionEnd below)
//
//   ConnectionLog log(file);             // one per worker
//   ConnectionRecord record;             // filled in as the connection goes
//   log.append(record);
//
// Thread-safety: a ConnectionLog belongs to one worker.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <zap/zio/address.hpp>

#include "log_file.hpp"

namespace zap::proxy {

enum class ConnectionEnd {
  kDone,            // both sides finished their streams (FIN)
  kIdleTimeout,     // neither side moved a byte for idle_timeout_ms
  kClientError,     // reading from or writing to the client failed first (a reset, a dead
                    // peer; also a client that resets after the backend's last byte)
  kBackendError,    // reading from or writing to the backend failed
  kNoBackend,       // no backend was up and free, or every connect failed
  kQueueTimeout,    // every backend stayed at its max_connections for queue_timeout_ms
  kQueueFull,       // every backend was at its max_connections, and max_queue clients waited
  kBadProxyHeader,  // the listener expects a PROXY header and got none valid
  kClientLeft,      // the client closed before a backend was chosen
  kNoMemory,        // a buffer could not be allocated
  kShutdown,        // the proxy stopped (past shutdown_grace_ms) while it ran
  kRefused,         // the proxy was at its max_connections: closed at once
};
const char* to_string(ConnectionEnd end);

struct ConnectionRecord {
  zio::SocketAddress client;
  zio::SocketAddress local;
  timespec accepted{};                   // CLOCK_REALTIME
  std::int64_t accepted_ns = 0;          // log_clock_ns(), as the steps below
  std::int64_t routed_ns = -1;           // first bytes read and the pool chosen
  std::int64_t picked_ns = -1;           // the queue left (or not needed): a backend, or none
  std::int64_t connected_ns = -1;        // a backend connected
  const std::string* pool = nullptr;     // the pool's name (the connection's routing holds it)
  const std::string* backend = nullptr;  // the backend's name (its pool holds it)
  std::string server_name;
  std::uint64_t bytes_up = 0;
  std::uint64_t bytes_down = 0;
  ConnectionEnd end = ConnectionEnd::kShutdown;
};

// CLOCK_MONOTONIC in ns (vDSO, no syscall): the log's times are to the millisecond, finer than
// the coarse clock the relay's idle checks use.
std::int64_t log_clock_ns() noexcept;

class ConnectionLog {
 public:
  explicit ConnectionLog(app::LogFile& file) : lines_(file) {}

  // Appends the record's line; `now_ns` (log_clock_ns()) ends its total time.
  void append(const ConnectionRecord& record, std::int64_t now_ns);
  app::LogBuffer& lines() { return lines_; }

 private:
  app::LogBuffer lines_;
  app::LogTime time_;
};

}  // namespace zap::proxy
