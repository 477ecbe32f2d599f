// Port file: how a test (or a supervisor) learns the addresses a daemon bound, e.g. for port 0.
//
//   write_port_file("/tmp/echo.ports", {"127.0.0.1:41234", "[::1]:41234"});
//
// One address per line, written to "<path>.tmp.<pid>" and renamed over `path`, so a reader that
// sees the file sees all of it (a symlink's target is replaced so, and the link stays); a FIFO or
// a device (/dev/stdout) is written through instead, and a FIFO without a reader is an error.
// Throws std::system_error on failure (start-up only).
#pragma once

#include <string>
#include <vector>

namespace zap::app {

void write_port_file(const std::string& path, const std::vector<std::string>& addresses);

}  // namespace zap::app
