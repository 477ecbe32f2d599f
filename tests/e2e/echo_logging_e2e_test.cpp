// End-to-end tests of zap-echo's log file: size rotation under a flood of debug lines, a log path
// that cannot be opened, and a SIGHUP level change as the file (not just stderr) sees it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "daemon.hpp"
#include "process.hpp"
#include "test_client.hpp"

namespace zap::e2e {
namespace {

namespace fs = std::filesystem;

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::vector<std::string> file_names(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Polls `path` until it contains `text` (info lines reach the file within ~1 s: flush_every).
bool wait_for_file_text(const std::string& path, const std::string& text) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (read_file(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string logging_config(const std::string& file, const std::string& level) {
  return R"({"listeners": [{"port": 0}], "admin": {"listen": "127.0.0.1:0"},
             "runtime": {"workers": 2},
             "log": {"level": ")" +
         level + R"(", "file": ")" + file + R"(", "max_size_mb": 1, "max_files": 2}})";
}

// The admin endpoint logs every request at debug level with its path, so long paths make a
// quick flood of log lines: 1200 requests x ~4 KB = ~4.8 MB through a 1 MB rotation size.
TEST(EchoLogging, TheLogFileRotatesAndStaysBoundedUnderAFlood) {
  TempDir logs;
  const std::string log_path = logs.path("echo.log");
  EchoDaemon echo(logging_config(log_path, "debug"));

  const std::string long_path = "/" + std::string(4000, 'x');
  for (int i = 0; i < 1200; ++i) {
    const HttpReply reply = http_get(echo.admin(), long_path + std::to_string(i));
    ASSERT_EQ(reply.status, 404) << "request " << i;
  }
  // Connections too: the daemon must keep serving while it rotates.
  for (unsigned i = 0; i < 50; ++i) {
    Socket client = Socket::connect(echo.address());
    ASSERT_TRUE(client.valid());
    const std::string data = pattern(1000, i);
    ASSERT_TRUE(client.send_all(data));
    ASSERT_EQ(client.recv_exact(data.size()), data);
  }
  EXPECT_EQ(echo.stats()["connections_total"], 50);

  // max_files 2: the live file and two rotated ones, none over the rotation size.
  EXPECT_EQ(file_names(logs.path("")),
            (std::vector<std::string>{"echo.1.log", "echo.2.log", "echo.log"}));
  constexpr std::uintmax_t kMaxSize = 1 << 20;
  for (const char* name : {"echo.1.log", "echo.2.log"}) {
    const auto size = fs::file_size(logs.path(name));
    EXPECT_LE(size, kMaxSize) << name;
    EXPECT_GT(size, kMaxSize / 2) << name << " was rotated before it was full";
    EXPECT_NE(read_file(logs.path(name)).find("debug [zap-echo] admin: /xxxx"), std::string::npos)
        << name;
  }
  // The newest request is in the live file (or the first rotated one, if it just rotated).
  const std::string last = "admin: " + long_path + "1199 404";
  EXPECT_TRUE(wait_for_file_text(log_path, last) ||
              read_file(logs.path("echo.1.log")).find(last) != std::string::npos);

  EXPECT_EQ(echo.stop(), 0) << echo.process().err().substr(0, 2000);
  EXPECT_LE(fs::file_size(log_path), kMaxSize);
  EXPECT_NE(read_file(log_path).find("stopped"), std::string::npos);
  EXPECT_EQ(file_names(logs.path("")).size(), 3u);
}

// A log path that cannot be created (its parent is a regular file; root could write anywhere
// else) is one config error naming log.file, and exit 1 -- before anything listens.
TEST(EchoLogging, AnUnwritableLogPathIsOneClearErrorAndNonZeroExit) {
  TempDir dir;
  const std::string blocker = dir.write("not-a-directory", "x");
  const std::string log_path = blocker + "/echo.log";
  const std::string config = dir.write("echo.json", logging_config(log_path, "info"));

  const RunResult from_config =
      run_to_exit(echo_binary(), {"--config", config, "--port-file", dir.path("ports")});
  EXPECT_EQ(from_config.code, 1) << from_config.err;
  EXPECT_EQ(count_of(from_config.err, "log.file"), 1u) << from_config.err;
  EXPECT_NE(from_config.err.find("zap-echo: config error: log.file: cannot open \"" + log_path),
            std::string::npos)
      << from_config.err;
  EXPECT_FALSE(fs::exists(dir.path("ports"))) << "wrote a port file, so it started listening";

  const RunResult from_flag = run_to_exit(
      echo_binary(), {"--listen", "127.0.0.1:0", "--admin", "off", "--log-file", log_path});
  EXPECT_EQ(from_flag.code, 1) << from_flag.err;
  EXPECT_EQ(count_of(from_flag.err, "log.file: cannot open"), 1u) << from_flag.err;
}

// The existing SIGHUP test reads the report on stderr; this one checks that the new level is in
// force for the file sink as well, both ways: debug lines start, then stop.
TEST(EchoLogging, SighupLogLevelChangeReachesTheLogFile) {
  TempDir logs;
  const std::string log_path = logs.path("echo.log");
  EchoDaemon echo(logging_config(log_path, "info"));
  ASSERT_EQ(http_get(echo.admin(), "/before-reload").status, 404);

  echo.rewrite_config(logging_config(log_path, "debug"));
  echo.process().signal(SIGHUP);
  ASSERT_TRUE(echo.process().wait_for_log("reload: applied log.level info -> debug", kDeadline))
      << echo.process().err();
  ASSERT_EQ(http_get(echo.admin(), "/after-reload").status, 404);
  EXPECT_TRUE(wait_for_file_text(log_path, "admin: /after-reload 404")) << read_file(log_path);
  // Lines are written in order, so a debug line from before the reload would be there by now.
  EXPECT_EQ(read_file(log_path).find("/before-reload"), std::string::npos);
  EXPECT_NE(read_file(log_path).find("reload: applied log.level info -> debug"), std::string::npos);

  echo.rewrite_config(logging_config(log_path, "warn"));
  echo.process().signal(SIGHUP);
  // Reported as an info line that the new level does not hide (not as a warning: nothing is
  // wrong).
  ASSERT_TRUE(echo.process().wait_for_log("reload: applied log.level debug -> warn", kDeadline))
      << echo.process().err();
  ASSERT_EQ(http_get(echo.admin(), "/after-warn").status, 404);
  EXPECT_EQ(echo.stop(), 0);
  const std::string text = read_file(log_path);  // complete: the daemon flushed and exited
  EXPECT_NE(text.find("info [zap-echo] reload: applied log.level debug -> warn"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("/after-warn"), std::string::npos) << text;
}

// logrotate's way: move the file, then SIGHUP. Later lines must go to a new file at the path,
// not on into the moved (or deleted) one.
TEST(EchoLogging, SighupReopensAMovedLogFile) {
  TempDir logs;
  const std::string log_path = logs.path("echo.log");
  EchoDaemon echo(logging_config(log_path, "debug"));
  ASSERT_EQ(http_get(echo.admin(), "/before-the-move").status, 404);
  ASSERT_TRUE(wait_for_file_text(log_path, "/before-the-move")) << read_file(log_path);
  fs::rename(log_path, logs.path("echo.log.1"));
  echo.process().signal(SIGHUP);
  ASSERT_TRUE(echo.process().wait_for_log("reload: applied no changes", kDeadline))
      << echo.process().err();
  ASSERT_EQ(http_get(echo.admin(), "/after-the-move").status, 404);
  EXPECT_TRUE(wait_for_file_text(log_path, "/after-the-move")) << "no new file at the path";
  EXPECT_EQ(read_file(logs.path("echo.log.1")).find("/after-the-move"), std::string::npos);
  EXPECT_EQ(echo.stop(), 0);
}

// A refused reload says why, also when the level would hide errors; and it refuses what a
// restart would (runtime settings zell cannot lay out), not only what fails to load.
TEST(EchoLogging, ARefusedReloadIsLoggedEvenAtLevelCriticalAndRefusesWhatStartWould) {
  TempDir logs;
  const std::string log_path = logs.path("echo.log");
  EchoDaemon echo(logging_config(log_path, "critical"));
  echo.rewrite_config("{\"listeners\": [");
  echo.process().signal(SIGHUP);
  ASSERT_TRUE(echo.process().wait_for_log("invalid JSON", kDeadline)) << echo.process().err();
  EXPECT_NE(echo.process().err().find("; keeping the running config"), std::string::npos);

  std::string bad_runtime = logging_config(log_path, "critical");
  bad_runtime.replace(bad_runtime.find(R"("workers": 2)"), 12, R"("workers": 2, "topology": "x")");
  echo.rewrite_config(bad_runtime);
  echo.process().signal(SIGHUP);
  ASSERT_TRUE(echo.process().wait_for_log("runtime.topology", kDeadline)) << echo.process().err();
  EXPECT_EQ(echo.process().err().find("needs a restart: runtime"), std::string::npos)
      << echo.process().err();
  EXPECT_EQ(echo.stop(), 0);
}

// Signals are blocked (for the signal thread) only once the config has been read: a start-up
// stuck reading it -- a FIFO nobody writes, a hung file system -- still ends on SIGTERM, while a
// SIGHUP then (systemctl reload, too early) is ignored.
TEST(EchoLogging, SigtermEndsAStartUpStuckReadingItsConfig) {
  TempDir dir;
  const std::string fifo = dir.path("config.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Process echo(echo_binary(), {"--config", fifo, "--check"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // stuck in open(2)
  echo.signal(SIGHUP);  // a reload asked for too early is ignored, not fatal
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(echo.running());
  echo.signal(SIGTERM);
  EXPECT_EQ(echo.wait(std::chrono::seconds(5)), 128 + SIGTERM) << echo.err();
}

}  // namespace
}  // namespace zap::e2e
