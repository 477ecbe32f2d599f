// zap/zell.hpp: the whole zell runtime in one include -- tasks, the runtime, timers, channels,
// task groups, blocking calls and async IO.
//
//   #include <zap/zell.hpp>
//   zap::zell::Task<int> main_task() { co_await zap::zell::sleep_for(std::chrono::milliseconds(1));
//   co_return 0; } int main() { zap::zell::Runtime runtime; return runtime.block_on(main_task()); }
//
// Thread-safety: see each header.
#pragma once

#include "zap/zell/channel.hpp"
#include "zap/zell/config.hpp"
#include "zap/zell/counters.hpp"
#include "zap/zell/frame_allocator.hpp"
#include "zap/zell/join_handle.hpp"
#include "zap/zell/runtime.hpp"
#include "zap/zell/sleep.hpp"
#include "zap/zell/spawn_blocking.hpp"
#include "zap/zell/task.hpp"
#include "zap/zell/task_group.hpp"
#include "zap/zell/timeout.hpp"
#include "zap/zell/unobserved_exception.hpp"
#include "zap/zell/wait_group.hpp"
#include "zap/zell/yield.hpp"
#if defined(ZAP_ZELL_HAS_ZIO)
#include "zap/zell/io.hpp"
#endif
