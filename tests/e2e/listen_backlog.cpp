#include "listen_backlog.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

namespace zap::e2e {

std::vector<std::uint32_t> listen_backlogs(int family, std::uint16_t port) {
  std::vector<std::uint32_t> found;
  const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return found;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } query{};
  query.header.nlmsg_len = sizeof(query);
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  query.request.sdiag_family = static_cast<std::uint8_t>(family);
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_states = 1u << TCP_LISTEN;
  if (::send(fd, &query, sizeof(query), 0) != static_cast<ssize_t>(sizeof(query))) {
    ::close(fd);
    return found;
  }
  alignas(nlmsghdr) char buffer[16384];
  for (bool done = false; !done;) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    auto left = static_cast<unsigned>(got);
    for (auto* message = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(message, left);
         message = NLMSG_NEXT(message, left)) {
      if (message->nlmsg_type == NLMSG_DONE || message->nlmsg_type == NLMSG_ERROR) {
        done = true;
        break;
      }
      const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(message));
      // For a listener, idiag_wqueue is its backlog (idiag_rqueue: connections waiting in it).
      if (ntohs(socket->id.idiag_sport) == port) found.push_back(socket->idiag_wqueue);
    }
  }
  ::close(fd);
  return found;
}

std::uint32_t somaxconn() {
  std::ifstream file("/proc/sys/net/core/somaxconn");
  std::uint32_t value = 0;
  return file >> value ? value : 4096;
}

}  // namespace zap::e2e
