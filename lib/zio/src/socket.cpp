// Socket set-up helpers (synchronous, non-blocking sockets) and the UDP Datagram glue.
#include "zap/zio/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zap::zio {
namespace {

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

std::error_code set_int(int fd, int level, int name, int value) noexcept {
  return ::setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? last_error()
                                                                  : std::error_code();
}

// A Unix socket path left by a dead process blocks bind(); remove it only if nobody answers.
void remove_stale_unix_path(const SocketAddress& address) noexcept {
  const auto* un = reinterpret_cast<const sockaddr_un*>(address.data());
  if (un->sun_path[0] == '\0') return;  // abstract: nothing on disk
  struct stat st {};
  if (::stat(un->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return;
  if (::connect(probe, address.data(), address.size()) < 0 && errno == ECONNREFUSED)
    ::unlink(un->sun_path);
  ::close(probe);
}

}  // namespace

UniqueFd open_socket(int family, int type, std::error_code& ec) noexcept {
  ec.clear();
  UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) ec = last_error();
  return fd;
}

UniqueFd listen_stream(const SocketAddress& address, const ListenOptions& options,
                       std::error_code& ec) noexcept {
  UniqueFd fd = open_socket(address.family(), SOCK_STREAM, ec);
  if (ec) return {};
  if (address.family() == AF_UNIX) {
    remove_stale_unix_path(address);
  } else {
    if (options.reuse_address && (ec = set_int(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1))) return {};
    if (options.reuse_port && (ec = set_int(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1))) return {};
    if (address.family() == AF_INET6 &&
        (ec = set_int(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only ? 1 : 0)))
      return {};
    if (options.nodelay && (ec = set_nodelay(fd.get(), true))) return {};
    if (options.keepalive && (ec = set_keepalive(fd.get(), *options.keepalive))) return {};
  }
  if (::bind(fd.get(), address.data(), address.size()) < 0 ||
      ::listen(fd.get(), options.backlog) < 0) {
    ec = last_error();
    return {};
  }
  return fd;
}

UniqueFd bind_datagram(const SocketAddress& address, std::error_code& ec) noexcept {
  UniqueFd fd = open_socket(address.family(), SOCK_DGRAM, ec);
  if (ec) return {};
  if (::bind(fd.get(), address.data(), address.size()) < 0) {
    ec = last_error();
    return {};
  }
  return fd;
}

SocketAddress local_address(int fd, std::error_code& ec) noexcept {
  SocketAddress a;
  *a.size_ptr() = a.capacity();
  ec = ::getsockname(fd, a.data(), a.size_ptr()) < 0 ? last_error() : std::error_code();
  return a;
}

SocketAddress peer_address(int fd, std::error_code& ec) noexcept {
  SocketAddress a;
  *a.size_ptr() = a.capacity();
  ec = ::getpeername(fd, a.data(), a.size_ptr()) < 0 ? last_error() : std::error_code();
  return a;
}

std::error_code set_nodelay(int fd, bool on) noexcept {
  return set_int(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

std::error_code set_keepalive(int fd, const KeepAlive& options) noexcept {
  if (auto ec = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, options.enabled ? 1 : 0);
      ec || !options.enabled)
    return ec;
  if (auto ec = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, options.idle_seconds)) return ec;
  if (auto ec = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, options.interval_seconds)) return ec;
  return set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, options.probes);
}

std::error_code set_buffer_sizes(int fd, int send_bytes, int receive_bytes) noexcept {
  if (send_bytes > 0)
    if (auto ec = set_int(fd, SOL_SOCKET, SO_SNDBUF, send_bytes)) return ec;
  if (receive_bytes > 0) return set_int(fd, SOL_SOCKET, SO_RCVBUF, receive_bytes);
  return {};
}

std::error_code enable_reply_source(int fd, int family) noexcept {
  return family == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
                            : set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
}

void Datagram::prep_recvfrom(Operation& op, int fd, void* buf, std::size_t len) noexcept {
  iov_ = {buf, len};
  msg_ = msghdr{};
  msg_.msg_name = peer_.data();
  msg_.msg_namelen = peer_.capacity();
  msg_.msg_iov = &iov_;
  msg_.msg_iovlen = 1;
  msg_.msg_control = control_;
  msg_.msg_controllen = sizeof control_;
  op.prep_recvmsg(fd, &msg_);
}

SocketAddress Datagram::reply_source() const noexcept {
  static_assert(CMSG_SPACE(sizeof(in6_pktinfo)) <= kControlBytes);
  // (CMSG_NXTHDR takes a non-const msghdr; it only reads it.)
  auto* msg = const_cast<msghdr*>(&msg_);
  if (msg->msg_control != control_) return {};  // not a completed recvfrom
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      if (IN_MULTICAST(ntohl(info.ipi_addr.s_addr))) return {};  // the route picks the source
      // ipi_spec_dst, not ipi_addr: for a broadcast it is the interface's own address.
      return SocketAddress::ipv4(ntohl(info.ipi_spec_dst.s_addr), 0);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      if (IN6_IS_ADDR_MULTICAST(&info.ipi6_addr)) return {};  // not a source
      sockaddr_in6 local{};
      local.sin6_family = AF_INET6;
      local.sin6_addr = info.ipi6_addr;
      // The interface it came in on: a link-local source is only valid with it.
      local.sin6_scope_id = static_cast<std::uint32_t>(info.ipi6_ifindex);
      return SocketAddress::from_native(reinterpret_cast<const sockaddr*>(&local), sizeof local);
    }
  }
  return {};
}

void Datagram::prep_reply(Operation& op, int fd, const void* buf, std::size_t len,
                          const Datagram& request) noexcept {
  const SocketAddress from = request.reply_source();
  prep_sendto(op, fd, buf, len, request.source());
  if (from.family() == AF_INET) {
    in_pktinfo info{};  // interface 0: the route's; ipi_spec_dst: the source address
    info.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(from.data())->sin_addr;
    set_control(IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
  } else if (from.family() == AF_INET6) {
    in6_pktinfo info{};
    const auto* local = reinterpret_cast<const sockaddr_in6*>(from.data());
    info.ipi6_addr = local->sin6_addr;
    // A link-local source is valid only on the interface it came in on; any other leaves by
    // the route (interface 0), which asymmetric routing may need.
    if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) info.ipi6_ifindex = local->sin6_scope_id;
    set_control(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
  }
}

void Datagram::set_control(int level, int type, const void* data, std::size_t size) noexcept {
  msg_.msg_control = control_;
  msg_.msg_controllen = CMSG_SPACE(size);
  cmsghdr* c = CMSG_FIRSTHDR(&msg_);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(size);
  std::memcpy(CMSG_DATA(c), data, size);
}

void Datagram::prep_sendto(Operation& op, int fd, const void* buf, std::size_t len,
                           const SocketAddress& to) noexcept {
  peer_ = to;
  iov_ = {const_cast<void*>(buf), len};
  msg_ = msghdr{};
  msg_.msg_name = peer_.data();
  msg_.msg_namelen = peer_.size();
  msg_.msg_iov = &iov_;
  msg_.msg_iovlen = 1;
  op.prep_sendmsg(fd, &msg_);
}

}  // namespace zap::zio
