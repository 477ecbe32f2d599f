// libzimalloc-override.so: real programs run under LD_PRELOAD behave exactly as without it
// (same output, same exit status), and the override is really the allocator in use.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Outcome {
  std::string output;
  int status = -1;
};

Outcome run(const std::string& command, bool preload) {
  const std::string full =
      (preload ? std::string("LD_PRELOAD=") + ZAP_ZIMALLOC_OVERRIDE_SO + " " : "") + command +
      " 2>&1";
  Outcome outcome;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return outcome;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    outcome.output.append(buffer.data(), n);
  outcome.status = pclose(pipe);
  return outcome;
}

bool have(const char* program) {
  return run(std::string("command -v ") + program + " >/dev/null", false).status == 0;
}

void expect_same(const std::string& command) {
  const Outcome plain = run(command, false);
  const Outcome preloaded = run(command, true);
  EXPECT_EQ(plain.status, preloaded.status) << command;
  EXPECT_EQ(plain.output, preloaded.output) << command;
}

TEST(Override, IsTheAllocatorInUse) {
  if (!have("python3")) GTEST_SKIP() << "python3 not installed";
  const Outcome outcome =
      run("python3 -c 'import ctypes; print(ctypes.CDLL(None).zi_override_active())'", true);
  EXPECT_EQ(outcome.output, "1\n");
}

TEST(Override, GitBehavesIdentically) {
  if (!have("git")) GTEST_SKIP() << "git not installed";
  char dir[] = "/tmp/zimalloc-git-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string repo = std::string("git -C ") + dir + " ";
  const std::string who = "-c user.email=t@example.com -c user.name=t ";
  ASSERT_EQ(run(repo + "init -q", false).status, 0);
  for (int i = 0; i < 5; ++i) {
    const std::string file = std::string(dir) + "/f" + std::to_string(i);
    ASSERT_EQ(
        run("sh -c 'seq 1 " + std::to_string(1000 * (i + 1)) + " > " + file + "'", false).status,
        0);
    ASSERT_EQ(run(repo + "add .", true).status, 0);
    ASSERT_EQ(
        run(repo + who + "commit -q -m c" + std::to_string(i) + " --date=2020-01-01T00:00:00Z",
            true)
            .status,
        0);
  }
  expect_same("git --version");
  expect_same(repo + "log --format='%s %an' --stat");
  expect_same(repo + "fsck --full");
  expect_same(repo + "diff HEAD~3 --stat");
  run(std::string("rm -rf ") + dir, false);
}

TEST(Override, PythonBehavesIdentically) {
  if (!have("python3")) GTEST_SKIP() << "python3 not installed";
  expect_same(
      "python3 -c 'import json; d = {str(i): list(range(i % 50)) for i in range(20000)}; "
      "s = json.dumps(d); print(len(s), sum(map(len, json.loads(s).values())))'");
  // Threads, and fork from a multi-threaded process.
  expect_same(
      "python3 -c 'import threading, os\n"
      "def work(): [bytearray(i % 3000) for i in range(30000)]\n"
      "ts = [threading.Thread(target=work) for _ in range(4)]\n"
      "[t.start() for t in ts]\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    work(); os._exit(7)\n"
      "[t.join() for t in ts]\n"
      "print(os.WEXITSTATUS(os.waitpid(pid, 0)[1]))'");
}

TEST(Override, AlignmentAboveTwoMiBThroughEveryEntryPoint) {
  const Outcome plain = run(ZAP_ZIMALLOC_OVERRIDE_PROBE, false);
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output, "override 0\nok\n");
  const Outcome preloaded = run(ZAP_ZIMALLOC_OVERRIDE_PROBE, true);
  EXPECT_EQ(preloaded.status, 0) << preloaded.output;
  EXPECT_EQ(preloaded.output, "override 1\nok\n");
}

TEST(Override, OurOwnTestBinaryPasses) {
  const Outcome outcome = run(std::string(ZAP_ZIMALLOC_TEST_BINARY) + " --gtest_brief=1", true);
  EXPECT_EQ(outcome.status, 0) << outcome.output;
}

}  // namespace
