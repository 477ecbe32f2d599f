// unsent_bytes: what a connected TCP socket still holds for its peer -- bytes queued and not yet
// acknowledged (SIOCOUTQ). A sender that waits for the socket to be writable learns from it
// whether a slow peer is still taking bytes (the queue shrinks) or has stopped (it does not):
// the kernel says "writable" only once a good part of a megabytes-large send buffer has drained.
//
//   const int before = app::unsent_bytes(fd);   // -1: the socket cannot say (not TCP)
#pragma once

#include <linux/sockios.h>
#include <sys/ioctl.h>

namespace zap::app {

inline int unsent_bytes(int fd) noexcept {
  int queued = 0;
  return ::ioctl(fd, SIOCOUTQ, &queued) == 0 ? queued : -1;
}

}  // namespace zap::app
