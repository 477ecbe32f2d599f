#include "load_report.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace zap::load {

namespace {

constexpr double kMega = 1e6;

// 950 -> "950ns", 12345 -> "12.3us", 4567890 -> "4.57ms"
std::string format_ns(std::uint64_t ns) {
  char text[32];
  if (ns < 1000) {
    std::snprintf(text, sizeof text, "%lluns", static_cast<unsigned long long>(ns));
  } else if (ns < 1000000) {
    std::snprintf(text, sizeof text, "%.1fus", double(ns) / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(text, sizeof text, "%.2fms", double(ns) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2fs", double(ns) / 1e9);
  }
  return text;
}

double per_second(std::uint64_t n, double seconds) { return seconds > 0 ? double(n) / seconds : 0; }

// "50000", "2.5", "0.5": as given, without a fraction that is not there.
std::string format_rate(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, rate == std::floor(rate) ? "%.0f" : "%.3g", rate);
  return text;
}

}  // namespace

void print_progress(std::FILE* out, double elapsed_s, std::uint64_t requests_delta,
                    std::uint64_t bytes_in_delta, double interval_s, std::uint64_t errors,
                    std::uint64_t verify_failures) {
  std::fprintf(
      out, "[%6.1fs] %10.0f req/s %9.2f MB/s in   errors %llu   verify failures %llu\n", elapsed_s,
      per_second(requests_delta, interval_s), per_second(bytes_in_delta, interval_s) / kMega,
      static_cast<unsigned long long>(errors), static_cast<unsigned long long>(verify_failures));
  std::fflush(out);
}

void print_table(std::FILE* out, const LoadOptions& o, const LoadSummary& s) {
  const auto& h = s.latency;
  std::fprintf(out, "zap-load %s: %s, %u connection(s), %u-byte messages, pipeline %u%s\n",
               o.mode == Mode::kEcho ? "echo" : "raw", o.target.c_str(), o.connections, o.size,
               o.pipeline, o.rate > 0 ? (", rate " + format_rate(o.rate) + "/s").c_str() : "");
  std::fprintf(out, "  %-16s %.2f s\n", "duration", s.elapsed_s);
  std::fprintf(out, "  %-16s %llu (%.0f req/s)\n", "requests",
               static_cast<unsigned long long>(s.requests), per_second(s.requests, s.elapsed_s));
  std::fprintf(out, "  %-16s %.2f MB/s out, %.2f MB/s in\n", "throughput",
               per_second(s.bytes_out, s.elapsed_s) / kMega,
               per_second(s.bytes_in, s.elapsed_s) / kMega);
  if (h.count() > 0) {
    std::fprintf(out, "  %-16s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n", "latency",
                 format_ns(h.percentile(50)).c_str(), format_ns(h.percentile(90)).c_str(),
                 format_ns(h.percentile(99)).c_str(), format_ns(h.percentile(99.9)).c_str(),
                 format_ns(h.max()).c_str(),
                 format_ns(static_cast<std::uint64_t>(h.mean())).c_str());
  }
  std::fprintf(out, "  %-16s %llu", "errors", static_cast<unsigned long long>(s.errors));
  if (s.errors > 0) {
    std::fprintf(out, " (connect %llu, read %llu, write %llu, timeout %llu)  first: %s",
                 static_cast<unsigned long long>(s.connect_errors),
                 static_cast<unsigned long long>(s.read_errors),
                 static_cast<unsigned long long>(s.write_errors),
                 static_cast<unsigned long long>(s.timeouts), s.first_error.c_str());
  }
  std::fputc('\n', out);
  if (o.requests_per_connection > 0) {
    std::fprintf(out, "  %-16s %llu opened (%.0f/s), a new one after every %u request(s)\n",
                 "connections", static_cast<unsigned long long>(s.connects),
                 per_second(s.connects, s.elapsed_s), o.requests_per_connection);
  }
  if (s.requests_unsent > 0) {
    std::fprintf(out, "  %-16s %llu (due before the end, never sent: the server fell behind)\n",
                 "unsent requests", static_cast<unsigned long long>(s.requests_unsent));
  }
  if (s.requests_lost > 0) {
    std::fprintf(out, "  %-16s %llu (in flight on connections that failed)\n", "lost requests",
                 static_cast<unsigned long long>(s.requests_lost));
  }
  if (s.connections_failed > 0) {
    std::fprintf(out, "  %-16s %u\n", "failed conns", s.connections_failed);
  }
  std::fprintf(out, "  %-16s %llu\n", "verify failures",
               static_cast<unsigned long long>(s.verify_failures));
}

std::string render_json(const LoadOptions& o, const LoadSummary& s) {
  const auto& h = s.latency;
  auto us = [](std::uint64_t ns) { return double(ns) / 1e3; };
  nlohmann::json j = {
      {"target", o.target},
      {"mode", o.mode == Mode::kEcho ? "echo" : "raw"},
      {"connections", o.connections},
      {"size", o.size},
      {"pipeline", o.pipeline},
      {"rate", o.rate},
      {"duration_s", s.elapsed_s},
      {"requests", s.requests},
      {"requests_per_s", per_second(s.requests, s.elapsed_s)},
      {"mb_per_s_out", per_second(s.bytes_out, s.elapsed_s) / kMega},
      {"mb_per_s_in", per_second(s.bytes_in, s.elapsed_s) / kMega},
      {"latency_us",
       {{"p50", us(h.percentile(50))},
        {"p90", us(h.percentile(90))},
        {"p99", us(h.percentile(99))},
        {"p99_9", us(h.percentile(99.9))},
        {"max", us(h.max())},
        {"mean", h.mean() / 1e3}}},
      {"errors", s.errors},
      {"error_kinds",
       {{"connect", s.connect_errors},
        {"read", s.read_errors},
        {"write", s.write_errors},
        {"timeout", s.timeouts}}},
      {"verify_failures", s.verify_failures},
      {"connections_failed", s.connections_failed},
      {"requests_lost", s.requests_lost},
      {"requests_unsent", s.requests_unsent},
      {"requests_per_connection", o.requests_per_connection},
      {"connects", s.connects},
      {"first_error", s.first_error},
  };
  return j.dump(2) + "\n";
}

}  // namespace zap::load
