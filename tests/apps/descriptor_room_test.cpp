#include "descriptor_room.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

namespace zap::app {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// Sets this process's soft descriptor limit for the scope of a test.
class SoftLimit {
 public:
  explicit SoftLimit(rlim_t soft) {
    EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &original_), 0);
    set(soft);
  }
  ~SoftLimit() { ::setrlimit(RLIMIT_NOFILE, &original_); }
  SoftLimit(const SoftLimit&) = delete;
  SoftLimit& operator=(const SoftLimit&) = delete;

  void set(rlim_t soft) {
    rlimit changed = original_;
    changed.rlim_cur = soft;
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &changed), 0);
  }

 private:
  rlimit original_{};
};

// Descriptors opened until the table is full, closed at the end: the numbers an accept() near
// the limit would have returned, from the lowest free one up.
std::vector<int> fill_the_table() {
  std::vector<int> fds;
  for (;;) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  return fds;
}

void close_all(const std::vector<int>& fds) {
  for (const int fd : fds) ::close(fd);
}

TEST(DescriptorRoom, TheLastDescriptorsAreTightAndTheVeryLastFullForAConnectionThatNeedsTwo) {
  const int lowest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lowest, 0);
  ::close(lowest);
  // Room for 100 more descriptors than the lowest free number: the gaps below it, if any, are
  // taken first by fill_the_table.
  const SoftLimit limit(static_cast<rlim_t>(lowest) + 100);
  const std::vector<int> fds = fill_the_table();
  ASSERT_FALSE(fds.empty());
  const int last = fds.back();
  EXPECT_EQ(last, lowest + 99);

  DescriptorRoom proxy(2);
  DescriptorRoom echo(1);
  // The very last number: no backend socket left for that client. An echo connection needs
  // nothing more, so it is served, but the next one will meet EMFILE.
  EXPECT_EQ(proxy.after_accept(last, 0), DescriptorRoom::kFull);
  EXPECT_EQ(proxy.above(last), 0u);
  EXPECT_EQ(proxy.above(last - 1), 1u);
  EXPECT_EQ(echo.after_accept(last, 0), DescriptorRoom::kTight);
  // One left above: enough for this client's backend.
  EXPECT_EQ(proxy.after_accept(last - 1, 0), DescriptorRoom::kTight);
  // Tight below 32 connections' worth, plenty from there on.
  const int edge = last - static_cast<int>(DescriptorRoom::kTightConnections * 2);
  EXPECT_EQ(proxy.after_accept(edge + 1, 0), DescriptorRoom::kTight);
  EXPECT_EQ(proxy.after_accept(edge, 0), DescriptorRoom::kPlenty);
  EXPECT_EQ(echo.after_accept(last - 31, 0), DescriptorRoom::kTight);
  EXPECT_EQ(echo.after_accept(last - 32, 0), DescriptorRoom::kPlenty);
  close_all(fds);
}

// Near the limit the number of an accepted descriptor is no guide: one freed below the others
// looks like room above it. rest_free() looks at the table itself, and at the limit as it is now.
TEST(DescriptorRoom, RestFreeLooksAtTheTableAndTheLimitNotAtTheNumber) {
  const int lowest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lowest, 0);
  ::close(lowest);
  SoftLimit limit(static_cast<rlim_t>(lowest) + 10);
  std::vector<int> fds = fill_the_table();
  ASSERT_GE(fds.size(), 6u);
  // A connection closed low in the table; the next accept takes its number.
  ::close(fds[1]);
  const int accepted = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_EQ(accepted, fds[1]);
  DescriptorRoom proxy(2);
  DescriptorRoom echo(1);
  EXPECT_EQ(proxy.after_accept(accepted, 0), DescriptorRoom::kTight) << "the number says room";
  EXPECT_FALSE(proxy.rest_free(accepted)) << "the table is full";
  EXPECT_TRUE(echo.rest_free(accepted)) << "an echo connection needs nothing more";
  // One freed: room for the backend socket.
  ::close(fds[3]);
  EXPECT_TRUE(proxy.rest_free(accepted));
  // But not if a connection admitted before it is still owed its backend socket; and a new
  // client would need two.
  EXPECT_FALSE(proxy.rest_free(accepted, 1));
  EXPECT_FALSE(proxy.room_for_next(accepted));
  EXPECT_TRUE(echo.room_for_next(accepted));
  ::close(fds[4]);
  EXPECT_TRUE(proxy.rest_free(accepted, 1));
  EXPECT_TRUE(proxy.room_for_next(accepted));
  EXPECT_FALSE(proxy.room_for_next(accepted, 1));
  fds[4] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  fds[3] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(proxy.rest_free(accepted));
  // The limit raised by prlimit(1): seen at once, not a second later.
  limit.set(static_cast<rlim_t>(lowest) + 11);
  EXPECT_TRUE(proxy.rest_free(accepted));
  close_all(fds);
}

// prlimit(1) may lower the limit of a running daemon: the room follows within a second, and at
// once after forget() (what an acceptor calls when accept() fails with EMFILE).
TEST(DescriptorRoom, ALoweredLimitIsSeenWithinASecondOrAtOnceAfterForget) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  SoftLimit limit(static_cast<rlim_t>(fd) + 1000);
  DescriptorRoom room(2);
  EXPECT_EQ(room.after_accept(fd, 5 * kSecond), DescriptorRoom::kPlenty);
  EXPECT_EQ(room.above(fd), 999u);

  limit.set(static_cast<rlim_t>(fd) + 1);  // fd is now the last number
  EXPECT_EQ(room.after_accept(fd, 5 * kSecond + kSecond / 2), DescriptorRoom::kPlenty)
      << "read again before its second was up";
  EXPECT_EQ(room.after_accept(fd, 6 * kSecond), DescriptorRoom::kFull);

  limit.set(static_cast<rlim_t>(fd) + 1000);
  EXPECT_EQ(room.after_accept(fd, 6 * kSecond + 1), DescriptorRoom::kFull);
  room.forget();
  EXPECT_EQ(room.after_accept(fd, 6 * kSecond + 2), DescriptorRoom::kPlenty);
  ::close(fd);
}

}  // namespace
}  // namespace zap::app
