// Blocking client sockets for e2e tests, every call bounded by a deadline (poll), so that a
// misbehaving daemon fails a test instead of hanging it.
//
//   Socket s = Socket::connect("127.0.0.1:41234");
//   ASSERT_TRUE(s.send_all(data));
//   std::string back = s.recv_exact(data.size());
#pragma once

#include <chrono>
#include <string>

namespace zap::e2e {

class Socket {
 public:
  // TCP connect to "ip:port" / "[v6]:port"; an invalid Socket (fd() < 0) if it fails.
  static Socket connect(const std::string& address,
                        std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // The same from the local address `source` ("127.0.0.2:0": a client the daemon can tell apart
  // from the tests' other loopback connections).
  static Socket connect_from(const std::string& source, const std::string& address,
                             std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // The same with SO_RCVBUF set to `bytes` before the handshake (which fixes the window's
  // scale): a small reader, behind which a peer's sends pile up.
  static Socket connect_small_reader(const std::string& address, int bytes,
                                     std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // A UDP socket connected to `address`.
  static Socket udp(const std::string& address);

  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  ~Socket();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  bool send_all(const std::string& data,
                std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Up to `n` bytes: fewer if the peer closed, reset or the deadline passed.
  std::string recv_exact(std::size_t n,
                         std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Reads until EOF; `reset` tells an RST from a FIN; false if the deadline passed first.
  struct Drained {
    std::string data;
    bool closed = false;  // FIN or RST seen before the deadline
    bool reset = false;
  };
  Drained recv_until_closed(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  void shutdown_write();
  // Makes close() send RST instead of FIN (SO_LINGER with a zero timeout), then closes.
  void abort();

 private:
  static Socket connect_with(const std::string& source, const std::string& address,
                             std::chrono::milliseconds deadline, int receive_buffer);
  int fd_ = -1;
};

// A TCP listener on 127.0.0.1 and a kernel-chosen port: a backend the test plays itself.
class Listener {
 public:
  Listener();
  const std::string& address() const { return address_; }
  // The next connection, or an invalid Socket if none came within `deadline`.
  Socket accept(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  Socket socket_;
  std::string address_;
};

// What makes `text` invalid Prometheus text exposition ("" if nothing): a family with two TYPE
// lines, samples of a family apart from its TYPE line or before it, a counter family whose
// name does not end in "_total" once, a sample line without a value.
std::string prometheus_text_problems(const std::string& text);

struct HttpReply {
  int status = 0;  // 0: no parsable reply
  std::string headers;
  std::string body;
  // The value of header field `name` (case-insensitive), or "" if absent.
  std::string header(const std::string& name) const;
};
// Sends `request` verbatim to `address` and reads the reply until the server closes.
HttpReply http_exchange(const std::string& address, const std::string& request);
HttpReply http_get(const std::string& address, const std::string& path);

// Reads one response from a keep-alive connection: the head, then Content-Length bytes of body
// (none when `head_request` or the status has none). status 0 if it did not arrive in time.
// Only for responses with a Content-Length (zap-http always sends one): a body delimited by the
// close would be left unread.
HttpReply read_http_reply(Socket& socket, bool head_request = false,
                          std::chrono::milliseconds deadline = std::chrono::seconds(10));
// Connects, sends `request`, reads one response (as read_http_reply), closes.
HttpReply http_request(const std::string& address, const std::string& request);

// `size` bytes that differ between offsets and seeds.
std::string pattern(std::size_t size, unsigned seed);

// A slow but steady reader (~400 KB/s): 8 KiB, then a 20 ms pause, for `slow_for` -- or until
// the stream ends early. Returns what came. (Use a Socket::connect_small_reader, so that the
// sender's socket fills.)
std::string read_slowly(Socket& socket, std::chrono::milliseconds slow_for);

}  // namespace zap::e2e
