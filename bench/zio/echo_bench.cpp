// Echo ping-pong over loopback: 64 connections, 64-byte messages, one server thread.
// "zap" is the echo server written on zio (io_uring backend in EchoIoUring, epoll backend in
// EchoEpoll); the peer "plain_epoll" is a hand-written level-triggered epoll loop with the same
// thread structure. The same load client drives both. One iteration = 64 x 64 echoes.
// EchoIoUringMultishot / EchoEpollMultishot: "zap" is the server on multishot accept + multishot
// recv over a BufferRing; its peers are plain_epoll and the single-shot zio server of the same
// backend ("zio_single_shot"), so the ratio table shows what multishot buys (> 1: multishot wins).
// Every case runs twice: driven by the epoll client (PingPongClient), and, with the prefix
// "UringClient", by the batching io_uring client (uring_client.hpp), which costs less per request
// than an epoll server, so that the servers' own costs, not the client's, decide the rate.
#include <benchmark/benchmark.h>

#include <string>

#include "common/ratio_reporter.hpp"
#include "zio/echo_peers.hpp"
#include "zio/uring_client.hpp"

namespace {

using namespace zap::bench::zio_echo;

constexpr int kConnections = 64;
constexpr std::size_t kMessage = 64;
constexpr std::uint64_t kRequestsPerIteration = 64 * kConnections;

template <class Client>
void run_echo(benchmark::State& state, const char* impl) {
  auto server = make_server(impl);
  Client client(server->port(), kConnections, kMessage);
  client.run(kRequestsPerIteration);  // warm-up: connections accepted, buffers sized
  for (auto _ : state) benchmark::DoNotOptimize(client.run(kRequestsPerIteration));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRequestsPerIteration));
  state.counters["requests/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kRequestsPerIteration), benchmark::Counter::kIsRate);
}

struct EchoCase {
  const char* name;    // "<Case>/<impl>" as the ratio reporter groups them
  const char* server;  // make_server() name
};

constexpr EchoCase kCases[] = {
    {"EchoIoUring/zap", "io_uring"},
    {"EchoIoUring/plain_epoll", "plain_epoll"},
    {"EchoEpoll/zap", "epoll"},
    {"EchoEpoll/plain_epoll", "plain_epoll"},
    {"EchoIoUringMultishot/zap", "io_uring_multishot"},
    {"EchoIoUringMultishot/zio_single_shot", "io_uring"},
    {"EchoIoUringMultishot/plain_epoll", "plain_epoll"},
    {"EchoEpollMultishot/zap", "epoll_multishot"},
    {"EchoEpollMultishot/zio_single_shot", "epoll"},
    {"EchoEpollMultishot/plain_epoll", "plain_epoll"},
};

template <class Client>
void register_cases(const std::string& prefix) {
  for (const EchoCase& c : kCases) {
    benchmark::RegisterBenchmark((prefix + c.name).c_str(), run_echo<Client>, c.server)
        ->UseRealTime()
        ->MinTime(1.0);
  }
}

// Registered before main(), like the BENCHMARK() macros: the epoll client's cases first.
const bool kRegistered =
    (register_cases<PingPongClient>(""), register_cases<UringPingPongClient>("UringClient"), true);

}  // namespace

ZAP_BENCH_MAIN();
