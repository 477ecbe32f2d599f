// Test helpers for e2e tests: run a program (a daemon or a one-shot tool) with its output in
// files, wait for it with deadlines, and read the port file a daemon writes.
//
//   TempDir dir;
//   Process echo(daemon_binary("ZAP_ECHO"), {"--listen", "127.0.0.1:0",
//                                            "--port-file", dir.path("ports")});
//   std::vector<std::string> ports = wait_for_port_file(dir.path("ports"), 1, kDeadline);
//   echo.signal(SIGTERM);
//   EXPECT_EQ(echo.wait(kDeadline), 0);
//
// Every wait has a deadline; a Process still running when destroyed is killed (SIGKILL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace zap::e2e {

using namespace std::chrono_literals;
inline constexpr auto kDeadline = std::chrono::seconds(20);

// The path in environment variable `name` (set by CMake to $<TARGET_FILE:...>); fails the test
// (throws) when unset.
std::string binary_from_env(const char* name);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return root_ + "/" + name; }
  // Writes `text` to `name` in the directory; returns the path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string root_;
};

std::string read_file(const std::string& path);

class Process {
 public:
  // Starts `program` with `args`; stdout and stderr go to files (see out()/err()).
  Process(const std::string& program, const std::vector<std::string>& args);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int signo) const;
  // The exit code (128 + signal if killed), or nullopt if still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline);
  bool running();
  pid_t pid() const { return pid_; }
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }
  // The lines of the port file the process writes at `path`; throws if the process exits or the
  // deadline passes first (the message carries its stderr).
  std::vector<std::string> wait_for_ports(const std::string& path,
                                          std::chrono::milliseconds deadline = kDeadline);
  // Waits until stderr contains `text`; false at the deadline.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds deadline) const;

 private:
  TempDir dir_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a program to completion (deadline kDeadline): exit code, stdout, stderr.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
RunResult run_to_exit(const std::string& program, const std::vector<std::string>& args);

}  // namespace zap::e2e
