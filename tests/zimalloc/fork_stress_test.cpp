// fork() in a multi-threaded process: the child allocates and frees freely (no lock left held by
// a thread that does not exist in the child), and frees blocks of threads it no longer has.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "pattern.hpp"
#include "zap/zimalloc/zimalloc.hpp"

namespace zi = zap::zimalloc;
namespace zt = zap::zimalloc::test;

namespace {

// Runs in the child: only async-signal-safe calls besides zimalloc's, exits with a status.
int child_work(const std::vector<std::pair<void*, std::size_t>>& inherited) {
  for (const auto& [p, size] : inherited) {
    if (!zt::check(p, size)) return 2;
    zi::free(p);  // blocks of threads that did not survive the fork
  }
  std::vector<std::pair<void*, std::size_t>> mine;
  for (int i = 0; i < 20000; ++i) {
    const std::size_t size = static_cast<std::size_t>(1 + (i * 7919) % 9000);
    void* p = zi::malloc(size);
    if (p == nullptr) return 3;
    zt::fill(p, size);
    mine.emplace_back(p, size);
  }
#if defined(__SANITIZE_THREAD__)
  // TSan cannot start threads in the child of a multi-threaded fork: free them right here.
  for (std::size_t i = 0; i < mine.size(); i += 2) zi::free(mine[i].first);
#else
  std::thread helper([&] {  // frees from a thread born in the child
    for (std::size_t i = 0; i < mine.size(); i += 2) zi::free(mine[i].first);
  });
  helper.join();
#endif
  for (std::size_t i = 1; i < mine.size(); i += 2) {
    if (!zt::check(mine[i].first, mine[i].second)) return 4;
    zi::free(mine[i].first);
  }
  zi::collect(true);
  return 0;
}

TEST(ForkStress, ChildOfAMultiThreadedProcessAllocates) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::vector<std::pair<void*, std::size_t>> inherited;
  std::atomic<int> ready{0};
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      std::vector<void*> live(256, nullptr);
      std::size_t n = 0;
      ready.fetch_add(1);
      while (!stop.load(std::memory_order_relaxed)) {
        void*& slot = live[n++ % live.size()];
        zi::free(slot);
        slot = zi::malloc(
            static_cast<std::size_t>(16 + (n * 13 + static_cast<std::size_t>(t)) % 5000));
        if (n % 64 == 0) std::this_thread::yield();
      }
      for (void* p : live) zi::free(p);
    });
  }
  // Blocks made by another thread, then handed over: the child will free them.
  std::thread maker([&] {
    for (int i = 0; i < 100; ++i) {
      const std::size_t size = static_cast<std::size_t>(100 + i * 37);
      void* p = zi::malloc(size);
      zt::fill(p, size);
      inherited.emplace_back(p, size);
    }
  });
  maker.join();
  while (ready.load() < 3) std::this_thread::yield();
  for (int round = 0; round < 6; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_work(inherited));
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died, round " << round;
    ASSERT_EQ(WEXITSTATUS(status), 0) << "round " << round;
  }
  stop.store(true);
  for (auto& worker : workers) worker.join();
  for (const auto& [p, size] : inherited) zi::free(p);
}

}  // namespace
