// An embedder's first program: one header from each installed module, linked through zap::zap.
#include <zap/zio/address.hpp>
#include <zap/zio/loop.hpp>
#include <zap/zuma/topology.hpp>
#include <zap/zync/mutex.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>

int main() {
  zap::zync::Mutex mutex;
  { std::lock_guard guard(mutex); }

  const auto& topology = zap::zuma::Topology::system();
  if (topology.cpu_count() == 0) return 1;

  std::error_code ec;
  const auto address = zap::zio::SocketAddress::parse("127.0.0.1:8080", ec);
  if (ec) return 2;

  auto loop = zap::zio::Loop::create({}, ec);
  if (!loop) return 3;
  bool fired = false;
  zap::zio::Operation timer(
      [](zap::zio::Operation& op, zap::zio::Result) { *static_cast<bool*>(op.user()) = true; },
      &fired);
  timer.prep_timeout(std::chrono::milliseconds(1));
  loop->submit(timer);
  while (!fired) loop->run_once();

  std::printf("zap consumer: %zu cpus, %s, io backend %.*s\n", topology.cpu_count(),
              address.to_string().c_str(), static_cast<int>(loop->backend_reason().size()),
              loop->backend_reason().data());
  return 0;
}
