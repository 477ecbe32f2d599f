#include "receive_proxy_header.hpp"

#include <cerrno>
#include <cstring>

#include <zap/zell/io.hpp>

namespace zap::app {

namespace {

ProxyHeaderReceipt refused(const char* reason, bool silent_close = false) {
  ProxyHeaderReceipt r;
  r.header.state = ProxyHeader::kInvalid;
  r.header.reason = reason;
  r.silent_close = silent_close;
  return r;
}

}  // namespace

zell::Task<ProxyHeaderReceipt> receive_proxy_header(int fd, char* buffer, std::size_t capacity,
                                                    std::size_t& have,
                                                    std::chrono::nanoseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    ProxyHeader header = parse_proxy_header({buffer, have});
    if (header.state == ProxyHeader::kComplete) {
      std::memmove(buffer, buffer + header.size, have - header.size);
      have -= header.size;
      co_return ProxyHeaderReceipt{header};
    }
    if (header.state == ProxyHeader::kInvalid) co_return ProxyHeaderReceipt{header};
    if (have == capacity) co_return refused("header larger than the buffer for it");
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) co_return refused("header not complete in time");
    const zio::Result got = co_await zell::recv(fd, buffer + have, capacity - have, left);
    if (got.raw() == -ETIMEDOUT) co_return refused("header not complete in time");
    if (!got) co_return refused("receive failed before the header was complete");
    if (got.bytes() == 0) {
      co_return have == 0 ? refused("closed without sending anything", true)
                          : refused("closed before the header was complete");
    }
    have += got.bytes();
  }
}

}  // namespace zap::app
