#include "lingering_close.hpp"

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>

#include <zap/zell/io.hpp>

namespace zap::app {

namespace {

constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr std::size_t kLingerBytes = 64 * 1024;

zell::Task<void> drain_input(int fd) {
  ::shutdown(fd, SHUT_WR);
  std::array<std::byte, 512> sink;
  const auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  for (std::size_t dropped = 0; dropped < kLingerBytes;) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) co_return;
    zio::Result r = co_await zell::recv(fd, sink.data(), sink.size(), left);
    if (!r || r.bytes() == 0) co_return;
    dropped += r.bytes();
  }
}

}  // namespace

zell::Task<void> lingering_close(zio::UniqueFd socket) {
  co_await drain_input(socket.get());
  co_await zell::close(socket.release());
}

}  // namespace zap::app
