// The zell side of the benchmark workloads, shared by runtime_bench and zell_vs_go.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "zap/zell/channel.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/wait_group.hpp"

namespace zell_bench {

namespace zell = zap::zell;

inline zell::Task<void> empty_task() { co_return; }
inline zell::Task<void> empty_task_done(zell::WaitGroup& wg) {
  wg.done();
  co_return;
}

// Spawns `n` empty tasks, then joins them all through their JoinHandles.
inline zell::Task<void> spawn_join(std::size_t n) {
  std::vector<zell::JoinHandle<void>> handles;
  handles.reserve(n);
  for (std::size_t i = 0; i < n; ++i) handles.push_back(zell::spawn(empty_task()));
  for (auto& h : handles) co_await h;
}

// Spawns `n` empty detached tasks and waits for them with a WaitGroup (what Go's peer does).
inline zell::Task<void> spawn_wait_group(std::size_t n) {
  zell::WaitGroup wg;
  wg.add(static_cast<std::int64_t>(n));
  for (std::size_t i = 0; i < n; ++i) zell::spawn(empty_task_done(wg)).detach();
  co_await wg.wait();
}

// skynet: a 10-ary tree of tasks, `size` leaves; each leaf returns its number, nodes sum.
inline zell::Task<std::uint64_t> skynet(std::uint64_t num, std::uint64_t size) {
  if (size == 1) co_return num;
  std::vector<zell::JoinHandle<std::uint64_t>> children;
  children.reserve(10);
  const std::uint64_t step = size / 10;
  for (std::uint64_t i = 0; i < 10; ++i)
    children.push_back(zell::spawn(skynet(num + i * step, step)));
  std::uint64_t sum = 0;
  for (auto& c : children) sum += co_await c;
  co_return sum;
}

// Fork-join fib: spawns one branch, computes the other inline.
inline zell::Task<std::uint64_t> fib(unsigned n) {
  if (n < 2) co_return n;
  auto left = zell::spawn(fib(n - 1));
  const std::uint64_t right = co_await fib(n - 2);
  co_return co_await left + right;
}

// One side of a ping-pong: `rounds` round trips through two capacity-1 channels.
inline zell::Task<void> pinger(zell::Channel<int>& out, zell::Channel<int>& in, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await out.send(i);
    (void)co_await in.recv();
  }
}
inline zell::Task<void> ponger(zell::Channel<int>& in, zell::Channel<int>& out, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    const int v = *co_await in.recv();
    co_await out.send(v);
  }
}

}  // namespace zell_bench
