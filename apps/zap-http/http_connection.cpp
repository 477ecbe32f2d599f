#include "http_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/yield.hpp>
#include <zap/zimalloc/zimalloc.hpp>
#include <zap/zio/socket.hpp>

#include "ascii.hpp"
#include "lingering_close.hpp"
#include "multipart.hpp"
#include "receive_proxy_header.hpp"
#include "response.hpp"
#include "unsent_bytes.hpp"

namespace zap::http {

namespace {

using std::chrono::milliseconds;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO; the cache and deadlines need no better
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A client that vanished is normal life for a server: counted, logged at debug.
void note_failure(const zio::Result& r, app::WorkerCounters& counters) {
  if (r.raw() == -ECANCELED) return;  // shutdown
  if (r.raw() == -ETIMEDOUT) {
    spdlog::debug("http: connection timed out, closing");
    return;
  }
  counters.add(counters.errors);
  if (r.raw() == -ECONNRESET || r.raw() == -EPIPE || r.raw() == -ECONNABORTED) {
    spdlog::debug("http: client went away: {}", r.error().message());
  } else {
    spdlog::info("http: connection error: {}", r.error().message());
  }
}

// Whether "chunked" is the final transfer coding of a Transfer-Encoding value ("gzip, chunked").
bool ends_in_chunked(std::string_view codings) {
  const std::size_t comma = codings.rfind(',');
  return equals_ignore_case(
      trim_ows(comma == std::string_view::npos ? codings : codings.substr(comma + 1)), "chunked");
}

void count_response(app::WorkerCounters& counters, int status) {
  const std::size_t slot = status < 300   ? kResponses1xx2xx
                           : status < 400 ? kResponses3xx
                           : status < 500 ? kResponses4xx
                                          : kResponses5xx;
  counters.add(counters.extra[slot]);
  counters.add(counters.requests);
}

// A connection's output, counted: the bytes sent go to the worker's bytes_out and to `sent`, the
// connection's own total -- from which the access log learns how much of a cut response went.
struct Output {
  app::WorkerCounters& counters;
  std::uint64_t sent = 0;
  void add_sent(std::uint64_t n) {
    counters.add(counters.bytes_out, n);
    sent += n;
  }
};

// After a writev_all of the pending output: counts what went (on failure, what went before it)
// and empties `pending`; false (noted) on failure.
bool flushed(const zio::Result& result, const zell::WritevAllAwaiter& write, std::size_t& pending,
             Output& output) {
  if (!result) {
    output.add_sent(write.sent());
    note_failure(result, output.counters);
    return false;
  }
  output.add_sent(result.bytes());
  pending = 0;
  return true;
}

// The request's fields an access log line needs, copied out of the input buffer (which the next
// request reuses before the line is written, after the response went out). The strings grow to
// the longest request seen, then are reused without allocating.
class AccessLine {
 public:
  // The IP address alone, as nginx's $remote_addr; "-" for anything else.
  void set_client(const zio::SocketAddress& peer) {
    client_ = "-";
    const void* ip = nullptr;
    if (peer.family() == AF_INET6) {
      ip = &reinterpret_cast<const sockaddr_in6*>(peer.data())->sin6_addr;
    } else if (peer.family() == AF_INET) {
      ip = &reinterpret_cast<const sockaddr_in*>(peer.data())->sin_addr;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (ip != nullptr && ::inet_ntop(peer.family(), ip, text, sizeof text) != nullptr) {
      client_ = text;
    }
  }
  void capture(const ParseOutcome& parsed, const RequestHead& head, std::string_view input) {
    if (parsed.state == ParseOutcome::kComplete) {
      request_line_.assign(head.request_line);
      referer_.assign(head.referer);
      user_agent_.assign(head.user_agent);
      return;
    }
    // Malformed: as much of the first line as there is (bounded), escaped by the log.
    std::string_view first = input.substr(0, std::min<std::size_t>(input.find('\n'), 256));
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    request_line_.assign(first.empty() ? std::string_view("-") : first);
    referer_.clear();
    user_agent_.clear();
  }
  AccessRecord record(int status, std::uint64_t body_bytes) const {
    return {client_, request_line_, status, body_bytes, referer_, user_agent_};
  }

 private:
  std::string client_ = "-";
  std::string request_line_;
  std::string referer_;
  std::string user_agent_;
};

// The body bytes of a response that went out, from the connection's output total: the body
// begins at `body_starts_at` in the connection's output.
std::uint64_t body_bytes_sent(std::uint64_t total_sent, std::uint64_t body_starts_at,
                              std::uint64_t body_length) {
  return total_sent > body_starts_at ? std::min(total_sent - body_starts_at, body_length) : 0;
}

// The access-log line of the last response while its end still waits in the output buffer
// (a small response is copied there and sent with the next flush): written once that flush has
// decided how much of the body went -- all of it, or what went before it failed -- so that a
// client gone before the flush shows as a cut download, not a served one. Written at the latest
// when the connection's frame ends (a shutdown).
class DeferredLine {
 public:
  DeferredLine(const AccessLine& line, const Output& output) : line_(line), output_(output) {}
  DeferredLine(const DeferredLine&) = delete;
  DeferredLine& operator=(const DeferredLine&) = delete;
  ~DeferredLine() {
    try {
      write();
    } catch (...) {
      // out of memory for a log line: the counters stand
    }
  }

  bool waiting() const { return access_ != nullptr; }
  void defer(AccessLogBuffer* access, int status, std::uint64_t body_starts_at,
             std::uint64_t body_length) {
    access_ = access;
    status_ = status;
    body_starts_at_ = body_starts_at;
    body_length_ = body_length;
  }
  // After a flush (or when nothing more will be sent): the line, with what went of the body.
  void write() {
    if (access_ == nullptr) return;
    AccessLogBuffer* const access = access_;
    access_ = nullptr;
    access->append(
        line_.record(status_, body_bytes_sent(output_.sent, body_starts_at_, body_length_)));
  }

 private:
  const AccessLine& line_;
  const Output& output_;
  AccessLogBuffer* access_ = nullptr;  // null: no line waits
  int status_ = 0;
  std::uint64_t body_starts_at_ = 0;
  std::uint64_t body_length_ = 0;
};

// Bytes asked of one sendfile(2): the kernel moves what the socket takes and returns.
constexpr std::uint64_t kSendfileChunk = std::uint64_t{1} << 30;
// A file sent without the socket ever filling up yields the worker after this many bytes.
constexpr std::uint64_t kYieldEvery = std::uint64_t{4} << 20;

struct ZimallocFree {
  void operator()(char* p) const noexcept { zimalloc::free(p); }
};

// Sends `length` bytes of the response's body from `offset` behind out[0, pending) (which it
// empties): from memory written with the head (`response.body`), or from the file with
// sendfile(2) straight from the page cache, as nginx does, polling whenever the socket is full.
// False (noted) if the connection must end.
zell::Task<bool> send_body_piece(int fd, const Response& response, std::uint64_t offset,
                                 std::uint64_t length, char* out, std::size_t& pending,
                                 milliseconds send_timeout, Output& output) {
  if (response.body_fd < 0) {
    const iovec body = {const_cast<char*>(response.body.data()) + offset, length};
    auto write = zell::writev_all(fd, {out, pending}, body, send_timeout);
    co_return flushed(co_await write, write, pending, output);
  }
  // The head goes first with MSG_MORE, so that it leaves in one segment with the file's first
  // bytes. (A file not in the page cache makes sendfile read it from disk while this worker
  // waits -- nginx's trade-off too.)
  if (const ssize_t n = ::send(fd, out, pending, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL); n > 0) {
    output.add_sent(static_cast<std::uint64_t>(n));
    std::memmove(out, out + n, pending - static_cast<std::size_t>(n));
    pending -= static_cast<std::size_t>(n);
  }
  if (auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      !flushed(co_await write, write, pending, output)) {
    co_return false;
  }
  off_t at = static_cast<off_t>(offset);
  std::uint64_t left = length;
  std::uint64_t since_yield = 0;
  while (left > 0) {
    const ssize_t n = ::sendfile(fd, response.body_fd, &at, std::min(left, kSendfileChunk));
    if (n > 0) {
      left -= static_cast<std::uint64_t>(n);
      output.add_sent(static_cast<std::uint64_t>(n));
      // A client that keeps up would keep this worker to itself until the file ends: let the
      // worker's other connections (and a cancellation) in now and then.
      since_yield += static_cast<std::uint64_t>(n);
      if (since_yield >= kYieldEvery && left > 0) {
        since_yield = 0;
        co_await zell::yield();
      }
    } else if (n == 0) {
      // The file ended early: it shrank after its size was sent. Only closing at once tells the
      // client that the response is incomplete.
      spdlog::warn("http: a file shrank while being sent; closing the connection");
      output.counters.add(output.counters.errors);
      co_return false;
    } else if (errno == EAGAIN) {
      since_yield = 0;
      // send_timeout is for a client that takes nothing. The socket says it is writable only once
      // a third of its (up to megabytes of) buffer has drained, which a slow reader may take longer
      // than that to do: a wait that times out while the queue shrank goes on.
      for (int queued = app::unsent_bytes(fd);;) {
        const zio::Result ready = co_await zell::poll(fd, POLLOUT, send_timeout);
        if (ready) break;
        const int now_queued = app::unsent_bytes(fd);
        if (ready.raw() != -ETIMEDOUT || now_queued < 0 || now_queued >= queued) {
          note_failure(ready, output.counters);
          co_return false;
        }
        queued = now_queued;
      }
    } else if (errno != EINTR) {
      note_failure(zio::Result(-errno), output.counters);
      co_return false;
    }
  }
  co_return true;
}

// A multipart/byteranges body behind out[0, pending): each part's head is added to the output
// buffer (flushed first when it has no room for one), its bytes copied behind it when they fit,
// else sent as a piece; the closing delimiter stays in the buffer like the end of any response.
zell::Task<bool> send_multipart(int fd, const Response& response, char* out, std::size_t& pending,
                                milliseconds send_timeout, Output& output) {
  const std::string_view boundary = response.multipart.boundary();
  const std::uint64_t size = response.file ? response.file->size : response.body.size();
  for (std::size_t i = 0; i <= response.parts.count; ++i) {
    if (kOutputCapacity - pending < kMaxPartHead) {
      auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      if (!flushed(co_await write, write, pending, output)) co_return false;
    }
    if (i == response.parts.count) {  // (the media type was checked short enough to fit)
      pending += write_multipart_end(boundary, out + pending, kOutputCapacity - pending);
      break;
    }
    const ByteRange& range = response.parts.items[i];
    const std::size_t head = write_part_head(boundary, i, response.content_type, range, size,
                                             out + pending, kOutputCapacity - pending);
    if (head == 0) {  // cannot happen (see kMaxPartHead); never send a part without its head
      spdlog::error("http: a multipart part head did not fit; closing");
      output.counters.add(output.counters.errors);
      co_return false;
    }
    pending += head;
    if (response.body_fd < 0 && range.length() <= kOutputCapacity - pending) {
      std::memcpy(out + pending, response.body.data() + range.first, range.length());
      pending += range.length();
    } else if (!co_await send_body_piece(fd, response, range.first, range.length(), out, pending,
                                         send_timeout, output)) {
      co_return false;
    }
  }
  co_return true;
}

}  // namespace

zell::Task<void> http_connection(zio::UniqueFd socket, app::ConnectionGate::Ticket ticket,
                                 HttpWorker& worker, HttpShared& shared, bool proxy_protocol) {
  const int fd = socket.get();
  app::WorkerCounters& counters = ticket.counters();
  Output output{counters};
  const std::size_t in_capacity = shared.parse_limits.max_head;
  // From zimalloc, the daemons' allocator: both buffers live on this worker's thread heap.
  const std::unique_ptr<char[], ZimallocFree> memory(
      static_cast<char*>(zimalloc::malloc(in_capacity + kOutputCapacity)));
  if (!memory) {
    note_failure(zio::Result(-ENOMEM), counters);
    co_await zell::close(socket.release());
    co_return;
  }
  char* const in = memory.get();
  char* const out = in + in_capacity;
  std::size_t have = 0;     // request bytes received and not yet used, at in[0, have)
  std::size_t pending = 0;  // response bytes written and not yet sent, at out[0, pending)
  RequestHead head;
  RequestScratch scratch;
  Response response;
  std::int64_t served = 0;
  // When the request being received must be complete; the first one's clock starts at accept.
  std::int64_t head_deadline_ns =
      monotonic_ns() + shared.request_timeout_ms.load(std::memory_order_relaxed) * 1'000'000;
  // How the connection ends: we end it (the default) with a lingering close -- FIN, then drain
  // what the client still sends, so a response it has not read yet is not destroyed by a
  // reset -- or the client ended it (closed, reset, stopped reading), and a plain close will do.
  bool linger = true;
  std::int64_t keepalive_ms = 0;  // for the wait before the next request; read once per request
  AccessLine access_line;
  if (!worker.access_logs.empty()) {
    std::error_code ec;
    access_line.set_client(zio::peer_address(fd, ec));
  }
  DeferredLine deferred_line(access_line, output);
  IdleConnections::Registration registration(shared.idle, worker.index, fd);
  IdleConnections::Entry& idle = registration.entry();
  if (proxy_protocol) {
    // The proxy's header first; what came behind it is the first request's start. The client it
    // names is the one the access log shows (a LOCAL or UNKNOWN header names none). Waiting for
    // it is idle: a drain ends the wait (the header then counts as missing).
    bool waited = shared.idle.enter_idle(idle);
    app::ProxyHeaderReceipt receipt;
    if (waited) {
      receipt = co_await app::receive_proxy_header(
          fd, in, in_capacity, have, std::chrono::nanoseconds(head_deadline_ns - monotonic_ns()));
      shared.idle.leave_idle(idle);
    }
    const app::ProxyHeader& header = receipt.header;
    if (header.state != app::ProxyHeader::kComplete) {
      if (waited && !receipt.silent_close) {
        counters.add(counters.errors);
        spdlog::debug("http: no valid PROXY protocol header ({}), closing", header.reason);
      }
      registration.remove();
      co_await zell::close(socket.release());  // nothing was answered: nothing to linger for
      co_return;
    }
    counters.add(counters.bytes_in, header.size + have);
    if (!worker.access_logs.empty() && !header.source.empty()) {
      access_line.set_client(header.source);
    }
  }

  for (;;) {
    const ParseOutcome parsed = parse_request_head({in, have}, shared.parse_limits, head);
    if (parsed.state == ParseOutcome::kIncomplete) {
      const milliseconds send_timeout(shared.send_timeout_ms.load(std::memory_order_relaxed));
      // Answers to pipelined requests go out before waiting for more.
      auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      const bool sent = flushed(co_await write, write, pending, output);
      deferred_line.write();
      if (!sent) {
        linger = false;
        break;
      }
      // Nothing received of a next request: idle, and a drain may end the wait. The first
      // request's wait is bounded by request_timeout, later ones by keepalive_timeout.
      const bool idle_wait = have == 0;
      if (idle_wait && !shared.idle.enter_idle(idle)) break;  // draining: nothing half-done
      std::chrono::nanoseconds timeout;
      if (idle_wait && served > 0) {
        timeout = milliseconds(keepalive_ms);  // > 0: else the last response closed
      } else {
        timeout = std::chrono::nanoseconds(head_deadline_ns - monotonic_ns());
        if (timeout.count() <= 0) {
          spdlog::debug("http: request head not complete within request_timeout_ms, closing");
          if (idle_wait) shared.idle.leave_idle(idle);
          break;
        }
      }
      const zio::Result got = co_await zell::recv(fd, in + have, in_capacity - have, timeout);
      if (idle_wait) shared.idle.leave_idle(idle);
      if (!got) {
        note_failure(got, counters);
        linger = got.raw() == -ETIMEDOUT;  // we end an idle or slow client; else it is gone
        break;
      }
      if (got.bytes() == 0) {  // the client closed (or a drain shut our read side)
        linger = false;
        break;
      }
      if (have == 0 && served > 0) {
        head_deadline_ns =
            monotonic_ns() + shared.request_timeout_ms.load(std::memory_order_relaxed) * 1'000'000;
      }
      have += got.bytes();
      counters.add(counters.bytes_in, got.bytes());
      continue;
    }

    // A complete head, or one that is already wrong: decide the response.
    std::size_t consumed = have;  // input this request used (all of it if malformed)
    // The answering site's "headers" (an error response carries none).
    std::string_view extra_headers;
    // The site's access log: the one the Host names once the head parsed (even if it is then
    // refused), else the default site's (as nginx logs a malformed request in its default
    // server's).
    const std::size_t site_index =
        parsed.state == ParseOutcome::kInvalid ? 0 : shared.hosts.site_for(head.host);
    WorkerSite* site = worker.sites[site_index].get();
    AccessLogBuffer* const access = site->access;
    bool keep_alive = false;
    if (parsed.state == ParseOutcome::kInvalid) {
      spdlog::debug("http: malformed request ({}): {}", parsed.status, parsed.reason);
      response.reset();
      error_response(parsed.status, response);
      response.close = true;
    } else if (site_index == 0 && shared.refuse_unknown_hosts) {
      // No site of ours is named (nginx's catch-all server that only refuses): RFC 9110 15.5.20
      // lets a client retry elsewhere. Closed, like any refusal: a scanner gets no second try.
      // (Before the framing checks below: as in nginx, the server is chosen first.)
      spdlog::debug("http: no virtual host is named \"{}\"; 421", head.host);
      response.reset();
      error_response(421, response);
      response.send_body = head.method != Method::kHead;
      response.close = true;
    } else if ((head.has_transfer_encoding &&
                (head.has_content_length || !ends_in_chunked(head.transfer_encoding))) ||
               head.content_length > shared.max_request_body) {
      // Framing that cannot be trusted -- a coding other than chunked last (the body's end is
      // unknown), or both Transfer-Encoding and Content-Length (request smuggling), RFC 9112
      // 6.1/6.3, 400 as in nginx -- or a body over the limit (413): answer and close, so no
      // body bytes are taken for a next request.
      response.reset();
      error_response(head.has_transfer_encoding ? 400 : 413, response);
      response.send_body = head.method != Method::kHead;
      response.close = true;
    } else {
      consumed = parsed.head_size;
      extra_headers = site->extra_headers;
      site->rules.respond(head, monotonic_ns(), scratch, response);
      // A body (rare: a static server reads none) is dropped if it came with the head; if
      // more of it is still to come, the response closes the connection and the lingering
      // close drains it -- never wait for it first: with "Expect: 100-continue" the client
      // waits for us, and a body trickling in would hold the connection.
      // A chunked body (a static server reads none) is never parsed: the answer closes the
      // connection and the lingering close drains it, as for a body still to come.
      const std::uint64_t body_here = std::min<std::uint64_t>(have - consumed, head.content_length);
      consumed += body_here;
      const bool body_pending = body_here < head.content_length || head.has_transfer_encoding;
      ++served;
      const std::int64_t max_requests =
          shared.max_requests_per_connection.load(std::memory_order_relaxed);
      keepalive_ms = shared.keepalive_timeout_ms.load(std::memory_order_relaxed);
      keep_alive = head.keep_alive && !response.close && !body_pending && !shared.idle.draining() &&
                   keepalive_ms > 0 && (max_requests == 0 || served < max_requests);
    }
    const milliseconds send_timeout(shared.send_timeout_ms.load(std::memory_order_relaxed));
    // A response cut short (the client went, a send timed out, a file shrank) is counted and
    // logged too, with the body bytes that went out, as nginx logs $body_bytes_sent: a
    // download that failed must show in the access log.
    auto log_cut_response = [&](std::uint64_t body_starts_at) {
      count_response(counters, response.status);
      if (access != nullptr) {
        access->append(access_line.record(
            response.status,
            body_bytes_sent(output.sent, body_starts_at, response.wire_body_length())));
      }
    };
    if (deferred_line.waiting()) {
      // A pipelined request behind a response still buffered, with its line waiting: that
      // response goes now (its line's request fields are about to be replaced). Only with an
      // access log does a pipelined response take a send of its own.
      const std::uint64_t would_start = output.sent + pending;
      auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      const bool sent = flushed(co_await write, write, pending, output);
      deferred_line.write();
      if (!sent) {  // this request's response never starts: logged with no body
        if (access != nullptr) access_line.capture(parsed, head, {in, have});
        log_cut_response(would_start);
        linger = false;
        break;
      }
    }
    if (access != nullptr) access_line.capture(parsed, head, {in, have});

    // The response head, behind the answers to earlier pipelined requests.
    if (kOutputCapacity - pending < kMaxResponseHead) {
      const std::uint64_t would_start = output.sent + pending;
      auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      if (!flushed(co_await write, write, pending, output)) {
        log_cut_response(would_start);
        linger = false;
        break;
      }
    }
    // Where this response begins in the connection's output: after what was sent and what is
    // still buffered of the answers before it.
    const std::uint64_t response_starts_at = output.sent + pending;
    const std::size_t head_size = write_response_head(response,
                                                      {.date = worker.date.now(),
                                                       .keep_alive = keep_alive,
                                                       .http10 = head.minor_version == 0,
                                                       .extra_headers = extra_headers},
                                                      out + pending, kOutputCapacity - pending);
    if (head_size == 0) {  // cannot happen within kMaxResponseHead; never send a headless body
      spdlog::error("http: a response head did not fit in {} bytes; closing", kMaxResponseHead);
      counters.add(counters.errors);
      break;
    }
    pending += head_size;

    // The request leaves the input buffer; a pipelined one behind it moves to the front, and
    // its request_timeout starts now.
    std::memmove(in, in + consumed, have - consumed);
    have -= consumed;
    if (have > 0) {
      head_deadline_ns =
          monotonic_ns() + shared.request_timeout_ms.load(std::memory_order_relaxed) * 1'000'000;
    }
    // The body: copied behind the head when it fits (the common case: a small cached file),
    // else written with it, or sendfile(2); several ranges as multipart/byteranges.
    const std::uint64_t body_length = response.wire_body_length();
    if (body_length > 0 && response.parts.count == 0) {
      if (response.body_fd < 0 && body_length <= kOutputCapacity - pending) {
        std::memcpy(out + pending, response.body.data(), body_length);
        pending += body_length;
      } else if (!co_await send_body_piece(fd, response, response.body_fd < 0 ? 0 : response.offset,
                                           body_length, out, pending, send_timeout, output)) {
        log_cut_response(response_starts_at + head_size);
        linger = false;
        break;
      }
    } else if (body_length > 0 &&
               !co_await send_multipart(fd, response, out, pending, send_timeout, output)) {
      log_cut_response(response_starts_at + head_size);
      linger = false;
      break;
    }
    count_response(counters, response.status);
    if (access != nullptr) {
      // Its line when the flush that sends its end has said how much went.
      deferred_line.defer(access, response.status, response_starts_at + head_size, body_length);
      if (pending == 0) deferred_line.write();  // all of it went already
    }
    response.file.reset();  // let an evicted file go now, not at the next request
    if (!keep_alive) {
      auto write = zell::writev_all(fd, {out, pending}, send_timeout);
      linger = flushed(co_await write, write, pending, output);
      deferred_line.write();
      break;
    }
  }
  deferred_line.write();  // (a way out that did not flush: the line says what went)

  counters.extra[kFileCacheHits].store(worker.cache_hits(), std::memory_order_relaxed);
  counters.extra[kFileCacheMisses].store(worker.cache_misses(), std::memory_order_relaxed);
  registration.remove();  // before the fd number can be reused
  // Both close through the worker's IO loop: zio's epoll backend keeps per-loop state about
  // each fd number, which only a close it sees resets.
  if (linger) {
    co_await app::lingering_close(std::move(socket));
  } else {
    co_await zell::close(socket.release());
  }
}

}  // namespace zap::http
