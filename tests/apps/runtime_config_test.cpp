#include "runtime_config.hpp"

#include <gtest/gtest.h>

#include "address_setting.hpp"
#include "config_error.hpp"
#include "config_reader.hpp"
#include "port_file.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace zap::app {
namespace {

TEST(RuntimeConfig, CarriesWorkersCpusTopologyAndBackend) {
  RuntimeSettings settings;
  settings.workers = 3;
  settings.cpus = "0";
  settings.io_backend = "epoll";
  settings.topology = "nodes=2 cores_per_node=1 cpus=0,0";
  const zell::RuntimeConfig config = to_runtime_config(settings, "t");
  EXPECT_EQ(config.workers, 3u);
  ASSERT_TRUE(config.cpus.has_value());
  EXPECT_EQ(config.cpus->to_string(), "0");
  ASSERT_TRUE(config.topology.has_value());
  EXPECT_EQ(config.topology->node_count(), 2u);
  EXPECT_EQ(config.io_backend, zell::IoBackend::kEpoll);
  EXPECT_NE(describe_runtime(config, 3).find("2 NUMA node(s)"), std::string::npos);
}

TEST(RuntimeConfig, AcceptsTheNodePerLineTopology) {
  RuntimeSettings settings;
  settings.topology = "node 0: 0-1; node 1: 2-3 on 0-1";
  const zell::RuntimeConfig config = to_runtime_config(settings, "t");
  ASSERT_TRUE(config.topology.has_value());
  EXPECT_EQ(config.topology->node_count(), 2u);
  EXPECT_EQ(config.topology->os_cpu_of(3), 1u);

  RuntimeSettings bad;
  bad.topology = "node 0: 0-1\nnode 1 2-3";
  const std::string error = error_of([&] { to_runtime_config(bad, "t"); });
  EXPECT_EQ(error.rfind("runtime.topology: ", 0), 0u) << error;
  EXPECT_NE(error.find("line 2: expected ':' after 'node 1'"), std::string::npos) << error;
}

TEST(RuntimeConfig, BadCpuListOrTopologyNamesTheKey) {
  RuntimeSettings cpus;
  cpus.cpus = "0-";
  EXPECT_EQ(error_of([&] { to_runtime_config(cpus, "t"); }).rfind("runtime.cpus: ", 0), 0u);
  RuntimeSettings none;
  none.cpus = "1000";
  none.topology = "nodes=1 cores_per_node=1";
  EXPECT_NE(error_of([&] { to_runtime_config(none, "t"); }).find("names no CPU"),
            std::string::npos);
  RuntimeSettings topology;
  topology.topology = "nodes=zero";
  EXPECT_EQ(error_of([&] { to_runtime_config(topology, "t"); }).rfind("runtime.topology: ", 0), 0u);
}

TEST(AddressSetting, ParsesHostPortAndNamesTheKeyOnError) {
  EXPECT_EQ(parse_address_setting("127.0.0.1:9901", "admin.listen").port(), 9901);
  EXPECT_EQ(parse_address_setting("[::1]:0", "x").family(), AF_INET6);
  EXPECT_EQ(error_of([] {
              parse_address_setting("nowhere", "admin.listen");
            }).rfind("admin.listen: expected \"ip:port\"", 0),
            0u);
  auto json = parse_json_text(
      R"({"listeners": [{"host": "::1", "port": 7}, {"host": "x", "port": 1}]})", "t");
  JsonReader root(json, "");
  auto listeners = root.array("listeners");
  EXPECT_EQ(read_host_port(listeners[0]).to_string(), "[::1]:7");
  EXPECT_EQ(error_of([&] { read_host_port(listeners[1]); }).rfind("listeners[1].host: ", 0), 0u);
}

TEST(PortFile, WritesOneAddressPerLineAndLeavesNoTemporary) {
  char dir[] = "/tmp/zap-port-file-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/ports";
  write_port_file(path, {"127.0.0.1:1", "[::1]:2"});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "127.0.0.1:1\n[::1]:2\n");
  std::remove(path.c_str());
  EXPECT_EQ(::rmdir(dir), 0) << "a temporary file was left behind";
}

}  // namespace
}  // namespace zap::app
