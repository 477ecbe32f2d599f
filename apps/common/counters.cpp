#include "counters.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace zap::app {

namespace {

struct Field {
  const char* name;
  const char* help;
  bool gauge;
  std::atomic<std::uint64_t> WorkerCounters::*member;
};

constexpr Field kFields[] = {
    {"connections_open", "Connections open now", true, &WorkerCounters::connections_open},
    {"connections_total", "Connections accepted", false, &WorkerCounters::connections_total},
    {"connections_rejected", "Connections refused over the limit", false,
     &WorkerCounters::connections_rejected},
    {"bytes_in", "Bytes received", false, &WorkerCounters::bytes_in},
    {"bytes_out", "Bytes sent", false, &WorkerCounters::bytes_out},
    {"requests", "Requests served", false, &WorkerCounters::requests},
    {"errors", "Connection errors", false, &WorkerCounters::errors},
};

std::uint64_t read(const WorkerCounters& w, const Field& f) {
  return (w.*f.member).load(std::memory_order_relaxed);
}

}  // namespace

Counters::Counters(std::size_t workers) : workers_(workers == 0 ? 1 : workers) {}

Counters::Counters(std::vector<WorkerPlacement> placement, std::vector<ExtraCounter> extras)
    : workers_(placement.empty() ? 1 : placement.size()),
      placement_(std::move(placement)),
      extras_(std::move(extras)) {
  // A programming error, found at start-up: more extras than WorkerCounters has room for, or
  // one that would overwrite a common counter in /stats.
  if (extras_.size() > kMaxExtraCounters) {
    throw std::invalid_argument("Counters: more than kMaxExtraCounters extra counters");
  }
  for (const ExtraCounter& extra : extras_) {
    for (const Field& f : kFields) {
      if (extra.name == f.name) throw std::invalid_argument("Counters: extra " + extra.name);
    }
  }
}

std::string Counters::render_json() const {
  nlohmann::json total = nlohmann::json::object();
  nlohmann::json per_worker = nlohmann::json::array();
  for (const auto& f : kFields) total[f.name] = 0;
  for (const auto& e : extras_) total[e.name] = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    nlohmann::json one = nlohmann::json::object();
    if (!placement_.empty()) {
      one["cpu"] = placement_[i].cpu;
      one["os_cpu"] = placement_[i].os_cpu;
      one["node"] = placement_[i].node;
    }
    for (const auto& f : kFields) {
      const auto v = read(*workers_[i], f);
      one[f.name] = v;
      total[f.name] = total[f.name].get<std::uint64_t>() + v;
    }
    for (std::size_t e = 0; e < extras_.size(); ++e) {
      const auto v = workers_[i]->extra[e].load(std::memory_order_relaxed);
      one[extras_[e].name] = v;
      total[extras_[e].name] = total[extras_[e].name].get<std::uint64_t>() + v;
    }
    per_worker.push_back(std::move(one));
  }
  total["workers"] = std::move(per_worker);
  return total.dump(2) + "\n";
}

namespace {

// A counter's family ends in "_total" (once: "connections_total" stays as it is).
std::string metric_name(const std::string& prefix, const std::string& name, bool gauge) {
  const bool has_suffix = name.size() >= 6 && name.compare(name.size() - 6, 6, "_total") == 0;
  return prefix + "_" + name + (gauge || has_suffix ? "" : "_total");
}

}  // namespace

std::string Counters::render_prometheus(const std::string& prefix) const {
  std::string out;
  for (const auto& f : kFields) {
    const std::string name = metric_name(prefix, f.name, f.gauge);
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (f.gauge ? " gauge\n" : " counter\n");
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      out += name + "{worker=\"" + std::to_string(i) + "\"} " +
             std::to_string(read(*workers_[i], f)) + "\n";
    }
  }
  for (std::size_t e = 0; e < extras_.size(); ++e) {
    const ExtraCounter& extra = extras_[e];
    const std::string name = metric_name(prefix, extra.name, extra.gauge);
    out += "# HELP " + name + " " + extra.help + "\n";
    out += "# TYPE " + name + (extra.gauge ? " gauge\n" : " counter\n");
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      out += name + "{worker=\"" + std::to_string(i) + "\"} " +
             std::to_string(workers_[i]->extra[e].load(std::memory_order_relaxed)) + "\n";
    }
  }
  if (!placement_.empty()) {
    const std::string name = prefix + "_worker_info";
    out += "# HELP " + name + " Where a worker runs: logical CPU, real CPU and NUMA node\n";
    out += "# TYPE " + name + " gauge\n";
    for (std::size_t i = 0; i < placement_.size(); ++i) {
      out += name + "{worker=\"" + std::to_string(i) + "\",cpu=\"" +
             std::to_string(placement_[i].cpu) + "\",os_cpu=\"" +
             std::to_string(placement_[i].os_cpu) + "\",node=\"" +
             std::to_string(placement_[i].node) + "\"} 1\n";
    }
  }
  return out;
}

}  // namespace zap::app
