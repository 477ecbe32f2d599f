// Daemon: a zap daemon started from a config text for an e2e test, with the addresses its port
// file names (listeners in config order, then admin), its /stats, and a bounded stop.
// EchoDaemon and HttpDaemon start zap-echo and zap-http.
//
//   EchoDaemon echo(R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"}})");
//   Socket client = Socket::connect(echo.address());
//   EXPECT_TRUE(echo.wait_for_stat("bytes_out", 1234));
//   EXPECT_EQ(echo.stop(), 0);
//
// Shared by the e2e test files; every wait is bounded (see process.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace zap::e2e {

std::string echo_binary();
std::string http_binary();
std::string proxy_binary();
std::string load_binary();
std::string configs_dir();

class Daemon {
 public:
  // Starts `binary` with the config and `extra` flags; throws (with its stderr) if it exits or
  // does not write its port file within kDeadline. A `launcher` runs it (e.g. {"/usr/sbin/ip",
  // "netns", "exec", "ns1"} to start it inside a network namespace).
  Daemon(const std::string& binary, const std::string& config, std::vector<std::string> extra,
         std::vector<std::string> launcher = {});

  Process& process() { return *process_; }
  const std::string& address(std::size_t i = 0) const { return addresses_.at(i); }
  const std::string& admin() const { return addresses_.back(); }
  void rewrite_config(const std::string& config) { dir_.write("config.json", config); }

  // GET /stats, parsed (a discarded value if it is not JSON).
  nlohmann::json stats();
  // Polls /stats until `key` equals `value` (the daemon updates counters asynchronously).
  bool wait_for_stat(const std::string& key, std::uint64_t value);
  // SIGTERM, then the exit code (nullopt if it hung).
  std::optional<int> stop();

 private:
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<Process> process_;
  std::vector<std::string> addresses_;
};

class EchoDaemon : public Daemon {
 public:
  explicit EchoDaemon(const std::string& config, std::vector<std::string> extra = {})
      : Daemon(echo_binary(), config, std::move(extra)) {}
};

class ProxyDaemon : public Daemon {
 public:
  explicit ProxyDaemon(const std::string& config, std::vector<std::string> extra = {})
      : Daemon(proxy_binary(), config, std::move(extra)) {}
};

class HttpDaemon : public Daemon {
 public:
  explicit HttpDaemon(const std::string& config, std::vector<std::string> extra = {})
      : Daemon(http_binary(), config, std::move(extra)) {}
};

}  // namespace zap::e2e
