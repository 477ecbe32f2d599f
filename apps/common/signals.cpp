#include "signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace zap::app {

namespace {

sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void SignalWatcher::ignore_reload_until_blocked() {
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
}

void SignalWatcher::block_signals() {
  const sigset_t set = watched_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Back to the default now that it is blocked: an ignored signal is dropped at once and would
  // never reach the signalfd; a blocked one waits there.
  signal(SIGHUP, SIG_DFL);
}

SignalWatcher::SignalWatcher(Handlers handlers) : handlers_(std::move(handlers)) {
  const sigset_t set = watched_signals();
  signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC);
  quit_fd_ = eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || quit_fd_ < 0) {
    const int error = errno;
    if (signal_fd_ >= 0) close(signal_fd_);
    if (quit_fd_ >= 0) close(quit_fd_);
    throw std::system_error(error, std::system_category(), "signalfd/eventfd");
  }
  thread_ = std::thread([this] { run(); });
}

SignalWatcher::~SignalWatcher() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = write(quit_fd_, &one, sizeof one);
  thread_.join();
  close(signal_fd_);
  close(quit_fd_);
}

void SignalWatcher::run() {
  pthread_setname_np(pthread_self(), "zap-signals");
  int stop_count = 0;
  for (;;) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {quit_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    signalfd_siginfo info;
    if (read(signal_fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
    if (info.ssi_signo == SIGHUP) {
      if (handlers_.on_reload) handlers_.on_reload();
    } else if (handlers_.on_stop) {
      handlers_.on_stop(++stop_count);
    }
  }
}

}  // namespace zap::app
