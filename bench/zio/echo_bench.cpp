// Echo ping-pong over loopback: 64 connections, 64-byte messages, one server thread.
// "zap" is the echo server written on zio (io_uring backend in EchoIoUring, epoll backend in
// EchoEpoll); the peer "plain_epoll" is a hand-written level-triggered epoll loop with the same
// thread structure. The same load client drives both. One iteration = 64 x 64 echoes.
// EchoIoUringMultishot / EchoEpollMultishot: "zap" is the server on multishot accept + multishot
// recv over a BufferRing; its peers are plain_epoll and the single-shot zio server of the same
// backend ("zio_single_shot"), so the ratio table shows what multishot buys (> 1: multishot wins).
#include <benchmark/benchmark.h>

#include "common/ratio_reporter.hpp"
#include "zio/echo_peers.hpp"

namespace {

using namespace zap::bench::zio_echo;

constexpr int kConnections = 64;
constexpr std::size_t kMessage = 64;
constexpr std::uint64_t kRequestsPerIteration = 64 * kConnections;

void run_echo(benchmark::State& state, const char* impl) {
  auto server = make_server(impl);
  PingPongClient client(server->port(), kConnections, kMessage);
  client.run(kRequestsPerIteration);  // warm-up: connections accepted, buffers sized
  for (auto _ : state) benchmark::DoNotOptimize(client.run(kRequestsPerIteration));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRequestsPerIteration));
  state.counters["requests/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kRequestsPerIteration), benchmark::Counter::kIsRate);
}

void EchoIoUring_zap(benchmark::State& s) { run_echo(s, "io_uring"); }
void EchoIoUring_plain_epoll(benchmark::State& s) { run_echo(s, "plain_epoll"); }
void EchoEpoll_zap(benchmark::State& s) { run_echo(s, "epoll"); }
void EchoEpoll_plain_epoll(benchmark::State& s) { run_echo(s, "plain_epoll"); }

void EchoIoUringMultishot_zap(benchmark::State& s) { run_echo(s, "io_uring_multishot"); }
void EchoIoUringMultishot_single(benchmark::State& s) { run_echo(s, "io_uring"); }
void EchoIoUringMultishot_plain_epoll(benchmark::State& s) { run_echo(s, "plain_epoll"); }
void EchoEpollMultishot_zap(benchmark::State& s) { run_echo(s, "epoll_multishot"); }
void EchoEpollMultishot_single(benchmark::State& s) { run_echo(s, "epoll"); }
void EchoEpollMultishot_plain_epoll(benchmark::State& s) { run_echo(s, "plain_epoll"); }

BENCHMARK(EchoIoUring_zap)->Name("EchoIoUring/zap")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoIoUring_plain_epoll)->Name("EchoIoUring/plain_epoll")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoEpoll_zap)->Name("EchoEpoll/zap")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoEpoll_plain_epoll)->Name("EchoEpoll/plain_epoll")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoIoUringMultishot_zap)->Name("EchoIoUringMultishot/zap")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoIoUringMultishot_single)
    ->Name("EchoIoUringMultishot/zio_single_shot")
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(EchoIoUringMultishot_plain_epoll)
    ->Name("EchoIoUringMultishot/plain_epoll")
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(EchoEpollMultishot_zap)->Name("EchoEpollMultishot/zap")->UseRealTime()->MinTime(1.0);
BENCHMARK(EchoEpollMultishot_single)
    ->Name("EchoEpollMultishot/zio_single_shot")
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(EchoEpollMultishot_plain_epoll)
    ->Name("EchoEpollMultishot/plain_epoll")
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace

ZAP_BENCH_MAIN();
