#include "counters.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace zap::app {
namespace {

TEST(Counters, JsonSumsWorkers) {
  Counters counters(2);
  counters.worker(0).add(counters.worker(0).bytes_in, 10);
  counters.worker(1).add(counters.worker(1).bytes_in, 5);
  counters.worker(1).add(counters.worker(1).connections_total);
  const auto json = nlohmann::json::parse(counters.render_json());
  EXPECT_EQ(json["bytes_in"], 15);
  EXPECT_EQ(json["connections_total"], 1);
  EXPECT_EQ(json["workers"].size(), 2u);
  EXPECT_EQ(json["workers"][1]["bytes_in"], 5);
}

TEST(Counters, PrometheusHasTypesAndWorkerLabels) {
  Counters counters(1);
  counters.worker(0).add(counters.worker(0).errors, 3);
  const auto text = counters.render_prometheus("zap_echo");
  EXPECT_NE(text.find("# TYPE zap_echo_errors_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("zap_echo_errors_total{worker=\"0\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE zap_echo_connections_open gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace zap::app
