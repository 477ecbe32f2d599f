// The descriptor limit (RLIMIT_NOFILE) at start-up: raised from its soft to its hard value, as
// Go's runtime does and nginx's worker_rlimit_nofile asks for. A soft default of 1024 would stop
// a daemon configured for 10 000 connections at about a thousand: accept() fails with EMFILE
// and the rest wait in the listen backlog.
//
//   const app::DescriptorLimit limit = app::raise_descriptor_limit();   // at start (process-wide)
//   app::report_descriptor_limit(limit, {2 * max_connections + 64, "max_connections 10000"});
//   app::check_descriptor_limit({2 * new_max + 64, "max_connections 20000"});   // at SIGHUP
#pragma once

#include <cstdint>
#include <string>

namespace zap::app {

struct DescriptorLimit {
  std::uint64_t was = 0;  // the soft limit found
  std::uint64_t now = 0;  // the soft limit after raising it (the hard limit, unless that failed)
};

// What a daemon's settings need: about `count` descriptors, for `for_what` ("max_connections
// 10000 (two sockets each)").
struct DescriptorNeed {
  std::uint64_t count = 0;
  std::string for_what;
};

// Raises the soft RLIMIT_NOFILE to the hard one. Never fails: without permission it stays.
DescriptorLimit raise_descriptor_limit() noexcept;

// Logs a raise (info), and warns if the need exceeds the limit now.
void report_descriptor_limit(const DescriptorLimit& limit, const DescriptorNeed& need);

// Both, again (SIGHUP with a new max_connections): the hard limit may have been raised since
// start (prlimit), and a raised max_connections may no longer fit under it.
void check_descriptor_limit(const DescriptorNeed& need);

}  // namespace zap::app
