// RatioReporter: Google Benchmark's console output plus a table of zap-vs-peer ratios.
//
// Benchmarks are named "<Case>/<impl>[/args...]", e.g. "MutexContended/zap/threads:2" and
// "MutexContended/std_mutex/threads:2". Runs that differ only in <impl> are compared with the run
// whose impl is "zap": ratio = peer time per iteration / zap time per iteration, so > 1 means zap
// is faster. With --benchmark_repetitions=N the medians are compared (the machine is noisy);
// otherwise the single runs. Use ZAP_BENCH_MAIN() instead of BENCHMARK_MAIN().
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace zap::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool is_median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !is_median) continue;
      std::string name = run.benchmark_name();
      if (is_median) name = name.substr(0, name.rfind('_'));  // strip "_median"
      const auto first = name.find('/');
      if (first == std::string::npos) continue;
      const auto second = name.find('/', first + 1);
      const std::string impl = name.substr(
          first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
      const std::string key =
          name.substr(0, first) + (second == std::string::npos ? "" : name.substr(second));
      Sample& sample = is_median ? medians_[key][impl] : singles_[key][impl];
      sample.seconds_per_iteration = run.GetAdjustedRealTime();
      if (order_.empty() || order_.back() != key) order_.push_back(key);
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto& table = medians_.empty() ? singles_ : medians_;
    std::printf("\n%-48s %-22s %10s   (%s; > 1.00 means zap is faster)\n", "case", "peer",
                "peer/zap", medians_.empty() ? "single runs" : "medians of repetitions");
    std::vector<std::string> seen;
    for (const std::string& key : order_) {
      bool dup = false;
      for (const auto& s : seen) dup = dup || s == key;
      if (dup) continue;
      seen.push_back(key);
      auto it = table.find(key);
      if (it == table.end()) continue;
      auto zap = it->second.find("zap");
      if (zap == it->second.end()) continue;
      for (const auto& [impl, sample] : it->second) {
        if (impl == "zap") continue;
        std::printf("%-48s %-22s %9.2fx\n", key.c_str(), impl.c_str(),
                    sample.seconds_per_iteration / zap->second.seconds_per_iteration);
      }
    }
    std::fflush(stdout);
  }

 private:
  struct Sample {
    double seconds_per_iteration = 0;
  };
  std::map<std::string, std::map<std::string, Sample>> medians_;
  std::map<std::string, std::map<std::string, Sample>> singles_;
  std::vector<std::string> order_;
};

}  // namespace zap::bench

#define ZAP_BENCH_MAIN()                                              \
  int main(int argc, char** argv) {                                   \
    benchmark::Initialize(&argc, argv);                               \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    zap::bench::RatioReporter reporter;                               \
    benchmark::RunSpecifiedBenchmarks(&reporter);                     \
    benchmark::Shutdown();                                            \
    return 0;                                                         \
  }
