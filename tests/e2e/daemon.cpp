#include "daemon.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "test_client.hpp"

namespace zap::e2e {

std::string echo_binary() { return binary_from_env("ZAP_ECHO"); }
std::string http_binary() { return binary_from_env("ZAP_HTTP"); }
std::string proxy_binary() { return binary_from_env("ZAP_PROXY"); }
std::string load_binary() { return binary_from_env("ZAP_LOAD"); }
std::string configs_dir() { return binary_from_env("ZAP_CONFIGS"); }

Daemon::Daemon(const std::string& binary, const std::string& config, std::vector<std::string> extra,
               std::vector<std::string> launcher) {
  config_path_ = dir_.write("config.json", config);
  std::vector<std::string> args = {"--config", config_path_, "--port-file", dir_.path("ports")};
  args.insert(args.end(), extra.begin(), extra.end());
  if (launcher.empty()) {
    process_ = std::make_unique<Process>(binary, args);
  } else {
    std::vector<std::string> launched(launcher.begin() + 1, launcher.end());
    launched.push_back(binary);
    launched.insert(launched.end(), args.begin(), args.end());
    process_ = std::make_unique<Process>(launcher.front(), launched);
  }
  addresses_ = process_->wait_for_ports(dir_.path("ports"));
}

nlohmann::json Daemon::stats() {
  const HttpReply reply = http_get(admin(), "/stats");
  EXPECT_EQ(reply.status, 200);
  return nlohmann::json::parse(reply.body, nullptr, false);
}

bool Daemon::wait_for_stat(const std::string& key, std::uint64_t value) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    const auto s = stats();
    if (s.contains(key) && s[key].get<std::uint64_t>() == value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<int> Daemon::stop() {
  process_->signal(SIGTERM);
  return process_->wait(kDeadline);
}

}  // namespace zap::e2e
