#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace zap::e2e {

namespace {

using Clock = std::chrono::steady_clock;

// Polling interval for conditions that only files can show (exit status is waited on with
// waitpid, which has no timeout; the interval bounds how late we notice).
constexpr auto kPoll = std::chrono::milliseconds(10);

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string binary_from_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string("environment variable ") + name +
                             " is not set (run through ctest)");
  }
  return value;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "zap-e2e-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  const std::string file = path(name);
  std::ofstream(file) << text;
  return file;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Process::Process(const std::string& program, const std::vector<std::string>& args)
    : out_path_(dir_.path("stdout")), err_path_(dir_.path("stderr")) {
  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // A child must not inherit a blocked or ignored signal mask from the test runner.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    (void)wait(std::chrono::seconds(10));
  }
}

void Process::signal(int signo) const { ::kill(pid_, signo); }

bool Process::running() {
  if (status_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait(std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  while (running()) {
    if (Clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(kPoll);
  }
  return status_;
}

bool Process::wait_for_log(const std::string& text, std::chrono::milliseconds deadline) const {
  const auto until = Clock::now() + deadline;
  for (;;) {
    if (err().find(text) != std::string::npos) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(kPoll);
  }
}

RunResult run_to_exit(const std::string& program, const std::vector<std::string>& args) {
  Process process(program, args);
  RunResult result;
  auto code = process.wait(kDeadline);
  if (!code) throw std::runtime_error(program + " did not exit within the deadline");
  result.code = *code;
  result.out = process.out();
  result.err = process.err();
  return result;
}

std::vector<std::string> Process::wait_for_ports(const std::string& path,
                                                 std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  // The file is written to a temporary name and renamed: once it exists, it is complete.
  while (::access(path.c_str(), R_OK) != 0) {
    if (!running()) throw std::runtime_error("daemon exited before listening:\n" + err());
    if (Clock::now() >= until) throw std::runtime_error("no port file " + path + ":\n" + err());
    std::this_thread::sleep_for(kPoll);
  }
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace zap::e2e
