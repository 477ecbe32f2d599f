#include "connection_log.hpp"

namespace zap::proxy {

namespace {

void append_address(std::string& out, const zio::SocketAddress& address) {
  if (address.empty()) {
    out.push_back('-');
    return;
  }
  app::append_log_text(out, address.text().view());
}

void append_name(std::string& out, const std::string* name) {
  app::append_log_text(out, name != nullptr ? std::string_view(*name) : std::string_view());
}

std::int64_t elapsed_ms(std::int64_t from_ns, std::int64_t to_ns) {
  return from_ns < 0 || to_ns < 0 ? -1 : (to_ns - from_ns) / 1'000'000;
}

}  // namespace

std::int64_t log_clock_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

const char* to_string(ConnectionEnd end) {
  switch (end) {
    case ConnectionEnd::kDone:
      return "done";
    case ConnectionEnd::kIdleTimeout:
      return "idle_timeout";
    case ConnectionEnd::kClientError:
      return "client_error";
    case ConnectionEnd::kBackendError:
      return "backend_error";
    case ConnectionEnd::kNoBackend:
      return "no_backend";
    case ConnectionEnd::kQueueTimeout:
      return "queue_timeout";
    case ConnectionEnd::kQueueFull:
      return "queue_full";
    case ConnectionEnd::kBadProxyHeader:
      return "bad_proxy_header";
    case ConnectionEnd::kClientLeft:
      return "client_left";
    case ConnectionEnd::kNoMemory:
      return "no_memory";
    case ConnectionEnd::kShutdown:
      return "shutdown";
    case ConnectionEnd::kRefused:
      return "refused";
  }
  return "?";
}

void ConnectionLog::append(const ConnectionRecord& r, std::int64_t now_ns) {
  std::string& line = lines_.begin_line();
  append_address(line, r.client);
  line.push_back(' ');
  time_.append(line, r.accepted, true);
  line.push_back(' ');
  append_address(line, r.local);
  line.push_back(' ');
  append_name(line, r.pool);
  line.push_back(' ');
  append_name(line, r.backend);
  line.push_back(' ');
  app::append_log_text(line, r.server_name);  // from the client: escaped like any field
  line.push_back(' ');
  // Each step's time from the one before it: how long the client took to say where it goes,
  // how long the backends took to answer.
  app::append_log_number(line, elapsed_ms(r.accepted_ns, r.routed_ns));
  line.push_back('/');
  app::append_log_number(line, elapsed_ms(r.routed_ns, r.picked_ns));
  line.push_back('/');
  app::append_log_number(line, elapsed_ms(r.picked_ns, r.connected_ns));
  line.push_back('/');
  app::append_log_number(line, elapsed_ms(r.accepted_ns, now_ns));
  line.push_back(' ');
  app::append_log_number(line, r.bytes_up);
  line.push_back(' ');
  app::append_log_number(line, r.bytes_down);
  line.push_back(' ');
  line += to_string(r.end);
  line.push_back('\n');
  lines_.end_line();
}

}  // namespace zap::proxy
