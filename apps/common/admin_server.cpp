#include "admin_server.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string_view>

#include <spdlog/spdlog.h>
#include <zap/zell/io.hpp>
#include <zap/zell/sleep.hpp>

#include "admin_request.hpp"
#include "lingering_close.hpp"
#include "listen_socket.hpp"
#include "log_throttle.hpp"

namespace zap::app {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRequestDeadline = std::chrono::seconds(5);

zell::Task<void> send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) co_return;
    zio::Result r = co_await zell::send(fd, data.data(), data.size(), left);
    if (!r) co_return;
    data.remove_prefix(r.bytes());
  }
}

// A request line that is complete and already wrong need not wait for the rest of the head.
bool request_line_is_bad(std::string_view data) {
  const auto line_end = data.find("\r\n");
  if (line_end == std::string_view::npos) return data.find('\n') != std::string_view::npos;
  const std::string line(data.substr(0, line_end + 2));
  return parse_admin_request(line + "\r\n").status == 400;
}

}  // namespace

AdminServer::AdminServer(const zio::SocketAddress& address, Renderers renderers)
    : listener_(listen_tcp(address, false)),
      bound_(bound_address(listener_.get())),
      renderers_(std::move(renderers)) {}

AdminServer::~AdminServer() = default;

void AdminServer::start(zell::Runtime& runtime) { acceptor_ = runtime.spawn(accept_loop()); }

void AdminServer::stop() {
  if (!acceptor_.valid()) return;
  acceptor_.cancel();
  try {
    acceptor_.get();
  } catch (const zell::TaskCancelled&) {
    // expected: the loop never ends by itself
  } catch (const std::exception& e) {
    spdlog::warn("admin: accept loop ended with {}", e.what());
  }
  listener_.reset();
}

zell::Task<void> AdminServer::accept_loop() {
  LogThrottle accept_failures(std::chrono::seconds(5));
  for (;;) {
    zio::Result r = co_await zell::accept(listener_.get());
    if (r && open_.load(std::memory_order_relaxed) >= kMaxAdminConnections) {
      if (refusing_.load(std::memory_order_relaxed) < kMaxAdminConnections) {
        refusing_.fetch_add(1, std::memory_order_relaxed);  // a count, ordering nothing
        zell::spawn_on_worker(zell::current_worker_index().value_or(0),
                              refuse(zio::UniqueFd(r.fd())))
            .detach();
      } else {
        co_await zell::close(r.fd());  // past both caps: closed at once
      }
    } else if (r) {
      open_.fetch_add(1, std::memory_order_relaxed);  // a count, ordering nothing
      // Answered on this worker, whose loop accepted the socket (see serve()).
      zell::spawn_on_worker(zell::current_worker_index().value_or(0), serve(zio::UniqueFd(r.fd())))
          .detach();
    } else if (r.raw() == -ECANCELED) {
      co_return;
    } else {
      // EMFILE and friends: back off instead of spinning on a full descriptor table.
      if (const auto skipped = accept_failures.admit()) {
        spdlog::warn("admin: accept failed: {}{}; retrying every 100 ms", r.error().message(),
                     LogThrottle::left_out(*skipped));
      }
      co_await zell::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

zell::Task<void> AdminServer::serve(zio::UniqueFd connection) {
  struct Leave {  // also if answering throws (out of memory)
    std::atomic<int>& open;
    ~Leave() { open.fetch_sub(1, std::memory_order_relaxed); }
  } leave{open_};
  co_await answer(connection.get());
  // Through the loop, not ::close: zio's epoll backend keeps per-loop state for each fd number.
  co_await zell::close(connection.release());
}

zell::Task<void> AdminServer::refuse(zio::UniqueFd connection) {
  struct Leave {
    std::atomic<int>& refusing;
    ~Leave() { refusing.fetch_sub(1, std::memory_order_relaxed); }
  } leave{refusing_};
  // Without reading the request: a scraper learns it should come back (Retry-After), where a
  // bare close looked like a daemon gone. A new socket's send buffer takes the answer whole.
  static const std::string busy =
      render_admin_response(503, "text/plain; charset=utf-8", "503\n", false);
  (void)::send(connection.get(), busy.data(), busy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  // The unread request must not turn the close into a reset that destroys the answer.
  co_await lingering_close(std::move(connection));
}

zell::Task<void> AdminServer::answer(int fd) {
  std::array<char, kMaxAdminRequestHead> buffer;
  std::size_t used = 0;
  std::size_t head_length = 0;
  int status = 0;
  const auto deadline = Clock::now() + kRequestDeadline;
  while (head_length == 0 && status == 0) {
    const auto left = deadline - Clock::now();
    if (used == buffer.size()) {
      status = 431;
    } else if (left <= Clock::duration::zero()) {
      status = 408;
    } else {
      zio::Result r = co_await zell::recv(fd, buffer.data() + used, buffer.size() - used, left);
      if (r.raw() == -ETIMEDOUT) {
        status = 408;
      } else if (!r || r.bytes() == 0) {
        co_return;  // reset or closed before a whole request: nobody to answer
      } else {
        used += r.bytes();
        const std::string_view data(buffer.data(), used);
        head_length = find_request_head_end(data);
        if (head_length == 0 && request_line_is_bad(data)) status = 400;
      }
    }
  }
  AdminRequest request;
  if (status == 0) request = parse_admin_request(std::string_view(buffer.data(), head_length));
  if (status != 0) request.status = status;

  std::string body;
  std::string_view type = "text/plain; charset=utf-8";
  if (request.status == 200 && request.path == "/stats") {
    body = renderers_.stats ? renderers_.stats() : "{}\n";
    type = "application/json";
  } else if (request.status == 200 && request.path == "/metrics") {
    body = renderers_.metrics ? renderers_.metrics() : "";
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    if (request.status == 200) request.status = 404;
    body = std::to_string(request.status) + "\n";
  }
  spdlog::debug("admin: {} {}", request.path.empty() ? "-" : request.path, request.status);
  const std::string reply = render_admin_response(request.status, type, body, request.head_only);
  co_await send_all(fd, reply, deadline + kRequestDeadline);
}

}  // namespace zap::app
