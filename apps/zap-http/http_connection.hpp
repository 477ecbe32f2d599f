// http_connection: one HTTP/1.1 client connection of zap-http -- read request heads, answer
// each with a static file or an error, keep the connection alive between requests, close it
// cleanly.
//
//   zell::spawn_on_worker(w, http_connection(std::move(socket), std::move(ticket), worker,
//   shared, /*proxy_protocol=*/false));
//
// Per request: parse the head from the input buffer (parse_request_head), decide the answer
// (StaticSite::respond), write its head into the output buffer, then the body: small bodies are
// copied behind the head, large in-memory ones go out in the same writev, file ranges follow the
// head with sendfile(2), waiting with zell::poll when the socket is full; a multipart/byteranges
// body is each part's head then its bytes, the same ways. Pipelined requests
// already received are answered before anything is sent, so their responses leave in one write. No
// allocation per request: the two buffers (input: max_request_head bytes; output: kOutputCapacity)
// are made once per connection, the scratch strings grow to the longest path seen. (A body too
// large for the output buffer is sent by a helper coroutine, whose frame comes from the worker
// thread's zimalloc heap; a small file, the common case, needs none.)
//
// Time limits: keepalive_timeout between requests, request_timeout from a request's first byte
// to the end of its head (slow-loris clients are dropped), send_timeout on every write.
// A request body (rare on a static server: a GET with Content-Length) that came with its head
// is dropped; if more of it is still to come, the response says "Connection: close" and the
// lingering close drains the rest -- the server never waits for a body first (a client sending
// "Expect: 100-continue" waits for the response). Bodies over max_request_body are answered 413,
// Transfer-Encoding 501, and the connection closes. A malformed head is answered (400, 414,
// 431, 505) and the connection closes.
// Closing after a response of ours is a lingering close (FIN, drain, close), so the client reads
// the response instead of a reset. A client that vanishes (reset, broken pipe) just ends the
// connection, counted as an error.
//
// proxy_protocol (the listener's "proxy_protocol": behind zap-proxy or HAProxy with send_proxy):
// the connection must start with a PROXY protocol header (v1 or v2), received within
// request_timeout; its client address is then the one the access log shows. A connection
// without a valid header is closed without an answer (counted as an error), as nginx does.
//
// The task must stay on one worker (spawn_on_worker): its socket, and its worker's file cache,
// are used through that worker only.
#pragma once

#include <zap/zell/task.hpp>
#include <zap/zio/fd.hpp>

#include "connection_gate.hpp"
#include "http_worker.hpp"

namespace zap::http {

inline constexpr std::size_t kOutputCapacity = 32 * 1024;

zell::Task<void> http_connection(zio::UniqueFd socket, app::ConnectionGate::Ticket ticket,
                                 HttpWorker& worker, HttpShared& shared, bool proxy_protocol);

}  // namespace zap::http
