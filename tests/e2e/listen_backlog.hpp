// listen_backlogs: the backlog of every TCP listener on a local port, as the kernel holds it (the
// value given to listen(2), capped by net.core.somaxconn), read through sock_diag -- what `ss
// -ltn` shows as Send-Q -- so that a test can see a daemon change its backlog.
//
//   std::vector<std::uint32_t> backlogs = listen_backlogs(AF_INET, 41234);   // one per socket
#pragma once

#include <cstdint>
#include <vector>

namespace zap::e2e {

// Empty if there is no listener on `port` (or sock_diag is unavailable).
std::vector<std::uint32_t> listen_backlogs(int family, std::uint16_t port);

// net.core.somaxconn, the cap on every backlog; 4096 if it cannot be read.
std::uint32_t somaxconn();

}  // namespace zap::e2e
