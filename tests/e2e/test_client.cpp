#include "test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

namespace zap::e2e {

namespace {

using Clock = std::chrono::steady_clock;

bool parse(const std::string& address, sockaddr_storage& out, socklen_t& len) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = address.substr(0, colon);
  const int port = std::stoi(address.substr(colon + 1));
  std::memset(&out, 0, sizeof out);
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof *v6;
    return ::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(static_cast<std::uint16_t>(port));
  len = sizeof *v4;
  return ::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1;
}

// Waits for `events` on fd until `until`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

Socket Socket::connect(const std::string& address, std::chrono::milliseconds deadline) {
  return connect_from("", address, deadline);
}

Socket Socket::connect_small_reader(const std::string& address, int bytes,
                                    std::chrono::milliseconds deadline) {
  return connect_with("", address, deadline, bytes);
}

Socket Socket::connect_from(const std::string& source, const std::string& address,
                            std::chrono::milliseconds deadline) {
  return connect_with(source, address, deadline, 0);
}

Socket Socket::connect_with(const std::string& source, const std::string& address,
                            std::chrono::milliseconds deadline, int receive_buffer) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!parse(address, addr, len)) return {};
  Socket s(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.valid()) return {};
  if (receive_buffer > 0 &&
      ::setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0) {
    return {};
  }
  if (!source.empty()) {
    sockaddr_storage local;
    socklen_t local_len = 0;
    if (!parse(source, local, local_len) ||
        ::bind(s.fd_, reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
      return {};
    }
  }
  if (::connect(s.fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) return {};
    if (!wait_for(s.fd_, POLLOUT, Clock::now() + deadline)) return {};
    int error = 0;
    socklen_t error_len = sizeof error;
    ::getsockopt(s.fd_, SOL_SOCKET, SO_ERROR, &error, &error_len);
    if (error != 0) return {};
  }
  return s;
}

Listener::Listener() : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  if (::bind(socket_.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(socket_.fd(), 16) != 0 ||
      ::getsockname(socket_.fd(), reinterpret_cast<sockaddr*>(&a), &size) != 0) {
    return;  // address() stays empty: the test's connects fail
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

Socket Listener::accept(std::chrono::milliseconds deadline) {
  if (!wait_for(socket_.fd(), POLLIN, Clock::now() + deadline)) return {};
  return Socket(::accept4(socket_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

Socket Socket::udp(const std::string& address) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!parse(address, addr, len)) return {};
  Socket s(::socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.valid() || ::connect(s.fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) return {};
  return s;
}

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}
Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

bool Socket::send_all(const std::string& data, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLOUT, until)) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string Socket::recv_exact(std::size_t n, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  std::string out;
  char buffer[65536];
  while (out.size() < n) {
    const ssize_t r = ::recv(fd_, buffer, std::min(sizeof buffer, n - out.size()), 0);
    if (r > 0) {
      out.append(buffer, static_cast<std::size_t>(r));
    } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLIN, until)) break;
    } else {
      break;
    }
  }
  return out;
}

Socket::Drained Socket::recv_until_closed(std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  Drained result;
  char buffer[65536];
  for (;;) {
    const ssize_t r = ::recv(fd_, buffer, sizeof buffer, 0);
    if (r > 0) {
      result.data.append(buffer, static_cast<std::size_t>(r));
    } else if (r == 0) {
      result.closed = true;
      return result;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd_, POLLIN, until)) return result;
    } else {
      result.closed = true;
      result.reset = errno == ECONNRESET;
      return result;
    }
  }
}

void Socket::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void Socket::abort() {
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(std::exchange(fd_, -1));
}

std::string prometheus_text_problems(const std::string& text) {
  std::string problems;
  std::set<std::string> families;  // every family whose TYPE line was seen
  std::string current;             // the family of the last TYPE line
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      if (!families.insert(name).second) problems += "family " + name + " has two TYPE lines\n";
      const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
      const bool twice = name.find("_total_total") != std::string::npos;
      if (type == "counter" && (!total || twice)) problems += "counter " + name + "\n";
      current = name;
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (name != current) problems += "sample of " + name + " not under its TYPE line\n";
    if (line.find(' ', line.find('}') == std::string::npos ? 0 : line.find('}')) ==
        std::string::npos) {
      problems += "no value: " + line + "\n";
    }
  }
  return problems;
}

HttpReply http_exchange(const std::string& address, const std::string& request) {
  HttpReply reply;
  Socket s = Socket::connect(address);
  if (!s.valid() || !s.send_all(request)) return reply;
  const std::string raw = s.recv_until_closed().data;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.headers = raw.substr(0, head_end);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

HttpReply http_get(const std::string& address, const std::string& path) {
  return http_exchange(address, "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
}

std::string HttpReply::header(const std::string& name) const {
  std::size_t pos = headers.find("\r\n");
  while (pos != std::string::npos) {
    const std::size_t start = pos + 2;
    const std::size_t end = headers.find("\r\n", start);
    const std::string line = headers.substr(start, end == std::string::npos ? end : end - start);
    const std::size_t colon = line.find(':');
    if (colon == name.size() && ::strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      std::size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      return line.substr(value);
    }
    pos = end;
  }
  return "";
}

HttpReply read_http_reply(Socket& socket, bool head_request, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  };
  HttpReply reply;
  std::string raw;
  while (raw.find("\r\n\r\n") == std::string::npos) {
    const std::string byte = socket.recv_exact(1, left());  // byte by byte: never read past it
    if (byte.empty()) return reply;
    raw += byte;
  }
  if (raw.rfind("HTTP/1.1 ", 0) != 0) return reply;
  reply.headers = raw.substr(0, raw.size() - 4);
  const int status = std::atoi(raw.c_str() + 9);
  const std::string length = reply.header("Content-Length");
  const bool bodyless = head_request || status == 304 || status == 204;
  if (!bodyless && !length.empty()) {
    const auto n = static_cast<std::size_t>(std::stoull(length));
    reply.body = socket.recv_exact(n, left());
    if (reply.body.size() != n) return reply;  // incomplete: status stays 0
  }
  reply.status = status;
  return reply;
}

HttpReply http_request(const std::string& address, const std::string& request) {
  Socket s = Socket::connect(address);
  if (!s.valid() || !s.send_all(request)) return {};
  const bool head_request = request.rfind("HEAD ", 0) == 0;
  return read_http_reply(s, head_request);
}

std::string pattern(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

std::string read_slowly(Socket& socket, std::chrono::milliseconds slow_for) {
  constexpr std::size_t kPiece = 8192;
  std::string got;
  const auto until = std::chrono::steady_clock::now() + slow_for;
  while (std::chrono::steady_clock::now() < until) {
    const std::string piece = socket.recv_exact(kPiece, std::chrono::seconds(2));
    got += piece;
    if (piece.size() < kPiece) break;  // cut (or done)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return got;
}

}  // namespace zap::e2e
