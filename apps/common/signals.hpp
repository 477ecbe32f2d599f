// SignalWatcher: turns SIGTERM/SIGINT/SIGHUP into calls on a dedicated thread.
//
//   SignalWatcher::ignore_reload_until_blocked();  // first thing in main
//   ... read the config (SIGTERM/SIGINT still end a start-up stuck there) ...
//   SignalWatcher::block_signals();          // before any thread starts
//   SignalWatcher watcher({.on_stop = [&](int count) { count == 1 ? drain() : stop_now(); },
//                          .on_reload = [&] { reload(); }});
//
// The signals are blocked in every thread (the mask is inherited) and read from a signalfd by the
// watcher's thread, so handlers run as ordinary code: they may lock, log and allocate. on_stop gets
// how many stop signals have arrived: the first asks for a graceful drain, a second for haste.
// SIGPIPE is ignored: a peer that vanishes shows up as EPIPE on the write, not as a dead daemon.
#pragma once

#include <functional>
#include <thread>

namespace zap::app {

class SignalWatcher {
 public:
  struct Handlers {
    std::function<void(int stop_count)> on_stop;
    std::function<void()> on_reload;
  };

  // SIGHUP (a reload asked for too early) and SIGPIPE are ignored, not fatal, until
  // block_signals(): the config is being read then anyway.
  static void ignore_reload_until_blocked();
  // Blocks SIGTERM/SIGINT/SIGHUP in this thread and every thread started after it (for the
  // watcher's signalfd) and ignores SIGPIPE.
  static void block_signals();

  explicit SignalWatcher(Handlers handlers);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void run();

  Handlers handlers_;
  int signal_fd_ = -1;
  int quit_fd_ = -1;  // eventfd: tells the thread to leave
  std::thread thread_;
};

}  // namespace zap::app
