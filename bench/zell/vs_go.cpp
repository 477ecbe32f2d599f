// zell_vs_go MODE: the zell side of the Go comparisons in go/*.go. Prints "key value" lines that
// run.sh pairs with the Go program's output.
//   spawn_join   1M empty tasks spawned, joined by a WaitGroup   -> total_ms (handles_total_ms:
//                the same joined through 1M JoinHandles)
//   pingpong     100k channel round trips, tasks placed by the     -> rtt_p50_ns rtt_p99_ns
//                scheduler, then pinned to two workers             -> pinned_rtt_p50_ns ...
//   skynet       1M-leaf 10-ary task tree                        -> total_ms peak_rss_kb
//   fib          fork-join fib(30)                               -> total_ms peak_rss_kb
//   timer        1ms sleeps on an idle runtime; arm+cancel rate  -> err_p50_us err_p99_us
//   arm_cancel_per_s
//   yield        one task yields 1M times (back through the run   -> yield_ns
//                queue each time), on an otherwise idle runtime
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "workloads.hpp"
#include "zap/zell/detail/timer_entry.hpp"
#include "zap/zell/yield.hpp"

namespace zell = zap::zell;
using namespace zell_bench;
using Clock = std::chrono::steady_clock;

namespace {

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

zell::Task<void> timed_pinger(zell::Channel<int>& out, zell::Channel<int>& in, int rounds,
                              std::vector<std::int64_t>& samples) {
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    co_await out.send(i);
    (void)co_await in.recv();
    samples.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }
}

zell::Task<void> timer_errors(int count, std::vector<std::int64_t>& errors_ns) {
  for (int i = 0; i < count; ++i) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(1);
    co_await zell::sleep_until(deadline);
    errors_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - deadline).count());
  }
}

zell::Task<double> arm_cancel_rate(std::size_t n) {
  zell::detail::Worker* worker = zell::detail::current_worker();
  zell::detail::TimerEntry entry;
  const std::int64_t base = zell::detail::now_ns() + 1'000'000'000;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    entry.deadline_ns = base + static_cast<std::int64_t>(i & 1023);
    zell::detail::timer_arm(worker, &entry);
    zell::detail::timer_disarm(worker, &entry);
  }
  co_return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

zell::Task<double> yield_round_trip_ns(int count) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) co_await zell::yield();
  co_return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / count;
}

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s spawn_join|pingpong|skynet|fib|timer|yield\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  zell::RuntimeConfig config;
  // Workers park in their zio loop (io_uring or epoll) as in a server; ZELL_BENCH_NO_IO=1 makes
  // them park on a futex instead.
  config.io_backend = std::getenv("ZELL_BENCH_NO_IO") != nullptr ? zell::IoBackend::kNone
                                                                 : zell::IoBackend::kAutomatic;
  zell::Runtime runtime(config);
  if (std::strcmp(mode, "spawn_join") == 0) {
    runtime.block_on(spawn_wait_group(10000));  // warm-up
    auto start = Clock::now();
    runtime.block_on(spawn_wait_group(1'000'000));
    std::printf("total_ms %.1f\n", ms_since(start));
    start = Clock::now();
    runtime.block_on(spawn_join(1'000'000));
    std::printf("handles_total_ms %.1f\npeak_rss_kb %ld\n", ms_since(start), peak_rss_kb());
  } else if (std::strcmp(mode, "pingpong") == 0) {
    constexpr int kRounds = 100000;
    for (int pinned = 0; pinned < 2; ++pinned) {
      std::vector<std::int64_t> samples;
      samples.reserve(kRounds);
      zell::Channel<int> a(1);
      zell::Channel<int> b(1);
      // Unpinned: the scheduler places both tasks (as Go does); pinned: one per worker.
      auto p = pinned ? runtime.spawn_on_worker(0, timed_pinger(a, b, kRounds, samples))
                      : runtime.spawn(timed_pinger(a, b, kRounds, samples));
      auto q = pinned ? runtime.spawn_on_worker(1 % runtime.worker_count(), ponger(a, b, kRounds))
                      : runtime.spawn(ponger(a, b, kRounds));
      p.get();
      q.get();
      const char* prefix = pinned ? "pinned_" : "";
      std::printf("%srtt_p50_ns %lld\n%srtt_p99_ns %lld\n", prefix,
                  static_cast<long long>(percentile(samples, 0.5)), prefix,
                  static_cast<long long>(percentile(samples, 0.99)));
    }
  } else if (std::strcmp(mode, "skynet") == 0) {
    const auto start = Clock::now();
    const std::uint64_t sum = runtime.block_on(skynet(0, 1'000'000));
    std::printf("total_ms %.1f\npeak_rss_kb %ld\nresult %llu\n", ms_since(start), peak_rss_kb(),
                static_cast<unsigned long long>(sum));
  } else if (std::strcmp(mode, "fib") == 0) {
    const auto start = Clock::now();
    const std::uint64_t v = runtime.block_on(fib(30));
    std::printf("total_ms %.1f\npeak_rss_kb %ld\nresult %llu\n", ms_since(start), peak_rss_kb(),
                static_cast<unsigned long long>(v));
  } else if (std::strcmp(mode, "timer") == 0) {
    std::vector<std::int64_t> errors;
    runtime.block_on(timer_errors(1000, errors));
    const double rate = runtime.block_on(arm_cancel_rate(10'000'000));
    std::printf("err_p50_us %.1f\nerr_p99_us %.1f\narm_cancel_per_s %.0f\n",
                static_cast<double>(percentile(errors, 0.5)) / 1000.0,
                static_cast<double>(percentile(errors, 0.99)) / 1000.0, rate);
  } else if (std::strcmp(mode, "yield") == 0) {
    (void)runtime.block_on(yield_round_trip_ns(10000));  // warm-up
    std::printf("yield_ns %.1f\n", runtime.block_on(yield_round_trip_ns(1'000'000)));
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
