#include "file_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "site_fixture.hpp"

namespace zap::http {
namespace {

constexpr std::int64_t kMs = 1'000'000;

class FileCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CachedFile> open(FileCache& cache, std::string_view path,
                                         std::int64_t now = 0) {
    ec_.clear();
    return cache.open(path, now, ec_);
  }

  SiteDir site_;
  MimeTypes types_;
  std::error_code ec_;
};

TEST_F(FileCacheTest, SmallFilesAreHeldInMemoryWithTheirMetadata) {
  site_.write("a.txt", "hello");
  site_.set_mtime("a.txt", 784111777);
  FileCache cache(site_.fd(), types_, {});
  auto file = open(cache, "/a.txt");
  ASSERT_TRUE(file) << ec_.message();
  EXPECT_FALSE(file->directory);
  EXPECT_TRUE(file->in_memory);
  EXPECT_EQ(file->body, "hello");
  EXPECT_EQ(file->size, 5u);
  EXPECT_FALSE(file->fd);
  EXPECT_EQ(file->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(file->last_modified(), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(file->etag().front(), '"');
}

TEST_F(FileCacheTest, LargeFilesKeepTheirDescriptorInstead) {
  site_.write("big.bin", std::string(1000, 'x'));
  FileCache cache(site_.fd(), types_, {.max_file_in_memory = 999});
  auto file = open(cache, "/big.bin");
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->in_memory);
  EXPECT_TRUE(file->body.empty());
  ASSERT_TRUE(file->fd);
  char byte = 0;
  EXPECT_EQ(::pread(file->fd.get(), &byte, 1, 999), 1);
  EXPECT_EQ(byte, 'x');
}

// Out of descriptors, the cache closes the ones it keeps for nothing (least recently used first,
// none a response is still sending) rather than fail the open: 503 for a descriptor held in case.
TEST_F(FileCacheTest, OutOfDescriptorsAnOpenTakesBackAnIdleCachedOne) {
  site_.write("a.bin", std::string(1000, 'a'));
  site_.write("b.bin", std::string(1000, 'b'));
  site_.write("c.bin", std::string(1000, 'c'));
  FileCache cache(site_.fd(), types_, {.max_file_in_memory = 999});
  auto a = open(cache, "/a.bin");
  ASSERT_TRUE(a) << ec_.message();
  const int a_fd = a->fd.get();
  auto b = open(cache, "/b.bin");
  ASSERT_TRUE(b) << ec_.message();
  b.reset();  // a is being sent still; b is idle in the cache
  // While the table is full nothing is checked, only noted: UBSan's vptr check (an error_code
  // comparison is a virtual call) probes memory with pipe(2), which EMFILE fails, and then
  // reports valid objects.
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  std::vector<int> filler;
  rlimit lowered = original;
  lowered.rlim_cur = static_cast<rlim_t>(a_fd) + 8;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
  auto c = open(cache, "/c.bin");
  char c_byte = 0;
  const bool c_read = c && ::pread(c->fd.get(), &c_byte, 1, 0) == 1;
  // Nothing idle left to give back (a and c are in use): the open fails as it would have, and
  // closes nothing a response still sends from.
  const bool b_while_busy = open(cache, "/b.bin") != nullptr;
  const int b_error = ec_.value();
  char a_byte = 0;
  const bool a_read = ::pread(a->fd.get(), &a_byte, 1, 0) == 1;
  // c sent: its descriptor is idle in the cache, and goes to b.
  c.reset();
  const bool b_once_idle = open(cache, "/b.bin") != nullptr;
  for (const int fd : filler) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &original);

  EXPECT_TRUE(c_read);
  EXPECT_EQ(c_byte, 'c');
  EXPECT_FALSE(b_while_busy);
  EXPECT_EQ(b_error, EMFILE);
  EXPECT_TRUE(a_read) << "a's descriptor was closed under it";
  EXPECT_EQ(a_byte, 'a');
  EXPECT_TRUE(b_once_idle);
}

TEST_F(FileCacheTest, AHitWithinTheValidityWindowTouchesNoFileSystem) {
  site_.write("a.txt", "one");
  FileCache cache(site_.fd(), types_, {.validity_ms = 1000});
  auto first = open(cache, "/a.txt", 0);
  site_.write("a.txt", "second version");
  auto again = open(cache, "/a.txt", 999 * kMs);
  EXPECT_EQ(again, first) << "trusted inside the window";
  EXPECT_EQ(cache.hits(), 1u);
  auto later = open(cache, "/a.txt", 1000 * kMs);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->body, "second version") << "revalidated after the window";
  EXPECT_EQ(first->body, "one") << "a response in flight keeps the old version";
}

TEST_F(FileCacheTest, ZeroValiditySeesEveryChangeAndRemoval) {
  site_.write("a.txt", "one");
  FileCache cache(site_.fd(), types_, {.validity_ms = 0});
  ASSERT_TRUE(open(cache, "/a.txt"));
  site_.write("a.txt", "two");
  auto changed = open(cache, "/a.txt");
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->body, "two");
  auto unchanged = open(cache, "/a.txt");
  EXPECT_EQ(unchanged, changed) << "an unchanged file is a hit";
  site_.remove("a.txt");
  EXPECT_FALSE(open(cache, "/a.txt"));
  EXPECT_EQ(ec_.value(), ENOENT);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST_F(FileCacheTest, AMissingFileIsRememberedForTheValidityWindowToo) {
  FileCache cache(site_.fd(), types_, {.validity_ms = 1000});
  EXPECT_FALSE(open(cache, "/later.txt", 0));
  EXPECT_EQ(ec_.value(), ENOENT);
  EXPECT_EQ(cache.misses(), 1u);
  site_.write("later.txt", "here now");
  EXPECT_FALSE(open(cache, "/later.txt", 500 * kMs)) << "the negative entry is trusted";
  EXPECT_EQ(ec_.value(), ENOENT);
  EXPECT_EQ(cache.hits(), 1u) << "no open() for a known-missing file";
  auto found = open(cache, "/later.txt", 1000 * kMs);
  ASSERT_TRUE(found) << "revalidated after the window";
  EXPECT_EQ(found->body, "here now");
  EXPECT_FALSE(open(cache, "/a-file-as/directory", 0));
  EXPECT_EQ(ec_.value(), ENOENT);
}

TEST_F(FileCacheTest, DirectoriesAndErrors) {
  site_.mkdir("docs");
  site_.write("file", "x");
  FileCache cache(site_.fd(), types_, {});
  auto dir = open(cache, "/docs");
  ASSERT_TRUE(dir);
  EXPECT_TRUE(dir->directory);
  auto root = open(cache, "/");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->directory);
  EXPECT_FALSE(open(cache, "/missing"));
  EXPECT_EQ(ec_.value(), ENOENT);
  EXPECT_FALSE(open(cache, "/file/"));
  EXPECT_EQ(ec_.value(), ENOTDIR) << "a trailing slash requires a directory";
  EXPECT_FALSE(open(cache, "/" + std::string(5000, 'n')));
  EXPECT_EQ(ec_.value(), ENAMETOOLONG);
}

TEST_F(FileCacheTest, ANamedPipeIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(site_.path("fifo").c_str(), 0644), 0);
  FileCache cache(site_.fd(), types_, {});
  EXPECT_FALSE(open(cache, "/fifo"));
  EXPECT_EQ(ec_.value(), EACCES);
}

TEST_F(FileCacheTest, SymlinksStayInsideTheRootUnlessFollowingIsAllowed) {
  SiteDir outside;
  outside.write("secret", "s3cret");
  site_.write("inner.txt", "inner");
  site_.symlink(site_.path("inner.txt"), "abs-inside");  // absolute: escapes lexically
  site_.symlink("inner.txt", "rel-inside");
  site_.symlink(outside.path("secret"), "escape");
  site_.symlink("../" + std::string(), "up");
  {
    FileCache cache(site_.fd(), types_, {});
    auto relative = open(cache, "/rel-inside");
    ASSERT_TRUE(relative) << ec_.message();
    EXPECT_EQ(relative->body, "inner");
    EXPECT_FALSE(open(cache, "/escape"));
    EXPECT_EQ(ec_.value(), EXDEV);
    EXPECT_FALSE(open(cache, "/up/"));
    EXPECT_EQ(ec_.value(), EXDEV);
    EXPECT_FALSE(open(cache, "/abs-inside")) << "absolute links are refused by RESOLVE_BENEATH";
  }
  FileCache follow(site_.fd(), types_, {.follow_symlinks = true});
  auto escaped = open(follow, "/escape");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->body, "s3cret");
}

#ifdef SYS_openat2
// Where openat2 is refused (a seccomp profile that predates it answers EPERM) or missing (kernel
// < 5.6), no symlink may lead out of the root either: every symlink is refused (ELOOP), also in
// a directory on the way. Run in a child process, which the filter cannot be taken off.
int open_under_a_filter_refusing_openat2(int root_fd, const MimeTypes& types) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{sizeof filter / sizeof filter[0], filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    return 2;
  }
  FileCache cache(root_fd, types, {});
  if (cache.uses_openat2()) return 3;
  std::error_code ec;
  const auto inner = cache.open("/sub/inner.txt", 0, ec);
  if (!inner || inner->body != "inner") return 4;  // no symlink on the way: served
  if (cache.open("/escape", 0, ec) || ec.value() != ELOOP) return 5;
  if (cache.open("/linked-dir/secret", 0, ec) || ec.value() != ELOOP) return 6;
  if (cache.open("/sub/escape", 0, ec) || ec.value() != ELOOP) return 7;
  return 0;
}

TEST_F(FileCacheTest, WithoutOpenat2EverySymlinkIsRefused) {
  SiteDir outside;
  outside.write("secret", "s3cret");
  site_.write("sub/inner.txt", "inner");
  site_.symlink(outside.path("secret"), "escape");
  site_.symlink(outside.path(""), "linked-dir");
  site_.symlink(outside.path("secret"), "sub/escape");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(open_under_a_filter_refusing_openat2(site_.fd(), types_));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "2: no filter, 3: openat2 still used, 4: a plain file refused, 5-7: a symlink followed";
}
#endif

// A deploy that swaps the root's "current" symlink to a new release: seen within validity_ms,
// with nothing of the old release served after that (nginx resolves its root per request).
TEST_F(FileCacheTest, AFollowedRootThatNowNamesAnotherDirectoryIsServedFromThere) {
  site_.write("v1/a.txt", "one");
  site_.write("v1/old.txt", "only in v1");
  site_.write("v2/a.txt", "two");
  site_.symlink("v1", "current");
  const zio::UniqueFd root(::open(site_.path("current").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root);
  FileCache cache(root.get(), types_, {.validity_ms = 100});
  cache.follow_root(site_.path("current"));
  ASSERT_NE(open(cache, "/a.txt", 0), nullptr);
  EXPECT_EQ(open(cache, "/a.txt", 0)->body, "one");
  ASSERT_NE(open(cache, "/old.txt", 0), nullptr);
  // Swapped as deploy tools do: a new link renamed over the old one.
  site_.symlink("v2", "current.new");
  std::filesystem::rename(site_.path("current.new"), site_.path("current"));
  EXPECT_EQ(open(cache, "/a.txt", 50 * kMs)->body, "one") << "within validity_ms: trusted";
  const auto after = open(cache, "/a.txt", 100 * kMs);
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->body, "two");
  EXPECT_EQ(open(cache, "/old.txt", 100 * kMs), nullptr) << "a cached file of the old release";
  EXPECT_EQ(ec_.value(), ENOENT);
  // A root missing for a moment (removed, then made again) keeps the one being served.
  std::filesystem::remove(site_.path("current"));
  EXPECT_EQ(open(cache, "/a.txt", 300 * kMs)->body, "two");

  // Not followed: the descriptor given is the root for good.
  site_.symlink("v1", "current");
  const zio::UniqueFd fixed_root(
      ::open(site_.path("current").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  FileCache fixed(fixed_root.get(), types_, {.validity_ms = 0});
  EXPECT_EQ(open(fixed, "/a.txt", 0)->body, "one");
  std::filesystem::remove(site_.path("current"));
  site_.symlink("v2", "current");
  EXPECT_EQ(open(fixed, "/a.txt", 1000 * kMs)->body, "one");
}

TEST_F(FileCacheTest, EvictsLeastRecentlyUsedByCountAndBytes) {
  for (const char* name : {"a", "b", "c"}) site_.write(name, std::string(100, name[0]));
  FileCache by_count(site_.fd(), types_, {.max_entries = 2});
  auto a = open(by_count, "/a");
  open(by_count, "/b");
  open(by_count, "/a");  // a is now the most recent
  open(by_count, "/c");  // evicts b
  EXPECT_EQ(by_count.entries(), 2u);
  EXPECT_EQ(by_count.hits(), 1u);
  open(by_count, "/a");
  EXPECT_EQ(by_count.hits(), 2u) << "a survived";
  open(by_count, "/b");
  EXPECT_EQ(by_count.misses(), 4u) << "b had been evicted";

  FileCache by_bytes(site_.fd(), types_, {.max_bytes = 250});
  open(by_bytes, "/a");
  open(by_bytes, "/b");
  open(by_bytes, "/c");
  EXPECT_EQ(by_bytes.entries(), 2u);
  EXPECT_LE(by_bytes.bytes_in_memory(), 250u);
}

}  // namespace
}  // namespace zap::http
