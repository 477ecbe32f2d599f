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

TEST(Counters, ExtraCountersAreSummedAndExportedByName) {
  Counters counters(std::vector<WorkerPlacement>{{0, 0, 0}, {1, 1, 0}},
                    {{"responses_2xx", "Responses with a 2xx status", false},
                     {"cached_files", "Files held", true}});
  counters.worker(0).add(counters.worker(0).extra[0], 2);
  counters.worker(1).add(counters.worker(1).extra[0], 3);
  counters.worker(1).add(counters.worker(1).extra[1], 9);
  const auto json = nlohmann::json::parse(counters.render_json());
  EXPECT_EQ(json["responses_2xx"], 5);
  EXPECT_EQ(json["cached_files"], 9);
  EXPECT_EQ(json["workers"][0]["responses_2xx"], 2);
  const auto text = counters.render_prometheus("zap_http");
  EXPECT_NE(text.find("# TYPE zap_http_responses_2xx_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("zap_http_responses_2xx_total{worker=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE zap_http_cached_files gauge\n"), std::string::npos);
}

TEST(Counters, ExtrasThatDoNotFitOrShadowACommonCounterAreRefused) {
  EXPECT_THROW(Counters(std::vector<WorkerPlacement>{{0, 0, 0}}, {{"errors", "clash", false}}),
               std::invalid_argument);
  std::vector<ExtraCounter> many(kMaxExtraCounters + 1, ExtraCounter{"x", "x", false});
  for (std::size_t i = 0; i < many.size(); ++i) many[i].name = "x" + std::to_string(i);
  EXPECT_THROW(Counters(std::vector<WorkerPlacement>{{0, 0, 0}}, many), std::invalid_argument);
}

TEST(Counters, PlacementAddsCpuAndNodeToJsonAndAnInfoMetric) {
  Counters counters(std::vector<WorkerPlacement>{{0, 0, 0}, {3, 1, 1}});
  ASSERT_EQ(counters.workers(), 2u);
  counters.worker(1).add(counters.worker(1).bytes_in, 7);
  const auto json = nlohmann::json::parse(counters.render_json());
  ASSERT_EQ(json["workers"].size(), 2u);
  EXPECT_EQ(json["workers"][1]["cpu"], 3);
  EXPECT_EQ(json["workers"][1]["os_cpu"], 1);
  EXPECT_EQ(json["workers"][1]["node"], 1);
  EXPECT_EQ(json["workers"][1]["bytes_in"], 7);
  EXPECT_EQ(json["workers"][0]["node"], 0);
  const auto text = counters.render_prometheus("zap_echo");
  EXPECT_NE(text.find("# TYPE zap_echo_worker_info gauge\n"), std::string::npos);
  EXPECT_NE(text.find("zap_echo_worker_info{worker=\"1\",cpu=\"3\",os_cpu=\"1\",node=\"1\"} 1\n"),
            std::string::npos)
      << text;
  // The counter series keep their single label, so existing queries still match.
  EXPECT_NE(text.find("zap_echo_bytes_in_total{worker=\"1\"} 7\n"), std::string::npos);
}

TEST(Counters, WithoutPlacementNoPlacementFields) {
  Counters counters(2);
  const auto json = nlohmann::json::parse(counters.render_json());
  EXPECT_FALSE(json["workers"][0].contains("node"));
  EXPECT_EQ(counters.render_prometheus("p").find("worker_info"), std::string::npos);
}

}  // namespace
}  // namespace zap::app
