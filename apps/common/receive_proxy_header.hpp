// receive_proxy_header: reads the PROXY protocol header that must open a connection (see
// proxy_protocol.hpp), for daemons whose listener sits behind a proxy.
//
//   char buffer[kMaxParsedProxyHeader];
//   std::size_t have = 0;
//   ProxyHeaderReceipt r = co_await receive_proxy_header(fd, buffer, sizeof buffer, have, 5s);
//   if (r.header.state != ProxyHeader::kComplete) ... close (r.header.reason says why) ...
//   ... buffer[0, have) holds what the client sent behind the header: its first bytes ...
//
// Receives into buffer[have, capacity) until a whole header is there, then takes the header out:
// the bytes behind it (the client's first data, if the peer sent it in the same segment) move to
// the front and `have` counts them. Never kIncomplete: a header that is not whole within
// `timeout`, a full buffer, or a peer that closes or fails first give kInvalid with the reason.
// A peer that closes without sending a byte is a TCP probe (a load balancer's check, a port
// scan), not a broken proxy: `silent_close` says so, for callers that count errors.
// Call from the task that owns the socket.
#pragma once

#include <chrono>
#include <cstddef>

#include <zap/zell/task.hpp>

#include "proxy_protocol.hpp"

namespace zap::app {

struct ProxyHeaderReceipt {
  ProxyHeader header;         // kComplete, or kInvalid with its reason
  bool silent_close = false;  // kInvalid because the peer closed without sending anything
};

zell::Task<ProxyHeaderReceipt> receive_proxy_header(int fd, char* buffer, std::size_t capacity,
                                                    std::size_t& have,
                                                    std::chrono::nanoseconds timeout);

}  // namespace zap::app
