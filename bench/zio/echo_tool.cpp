// zio_echo_tool: the benchmark's servers and client as separate processes, so that
// syscalls.sh can count the server's syscalls alone.
//   zio_echo_tool server io_uring|epoll|io_uring_multishot|epoll_multishot|plain_epoll
//                                                     prints the port, serves until stdin closes
//   zio_echo_tool client|uring_client PORT CONNECTIONS BYTES REQUESTS   prints requests/s
//                       (client: the epoll PingPongClient; uring_client: UringPingPongClient)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "zio/echo_peers.hpp"
#include "zio/uring_client.hpp"

using namespace zap::bench::zio_echo;

template <class Client>
int run_client(char** argv) {
  Client client(static_cast<std::uint16_t>(std::atoi(argv[2])), std::atoi(argv[3]),
                static_cast<std::size_t>(std::atoi(argv[4])));
  const auto requests = static_cast<std::uint64_t>(std::atoll(argv[5]));
  const auto start = std::chrono::steady_clock::now();
  client.run(requests);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu requests in %.3f s: %.0f requests/s\n",
              static_cast<unsigned long long>(requests), s, static_cast<double>(requests) / s);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "server") == 0) {
    auto server = make_server(argv[2]);
    if (!server) return 2;
    std::printf("%u\n", server->port());
    std::fflush(stdout);
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    server->stop();
    return 0;
  }
  if (argc >= 6 && std::strcmp(argv[1], "client") == 0) return run_client<PingPongClient>(argv);
  if (argc >= 6 && std::strcmp(argv[1], "uring_client") == 0)
    return run_client<UringPingPongClient>(argv);
  std::fprintf(stderr,
               "usage: %s server IMPL | client|uring_client PORT CONNECTIONS BYTES REQUESTS\n",
               argv[0]);
  return 2;
}
