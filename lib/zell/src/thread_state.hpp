// The calling thread's worker and task.
#pragma once

namespace zap::zell::detail {

class Worker;
struct TaskHeader;

extern thread_local Worker* tls_worker;
extern thread_local TaskHeader* tls_task;

}  // namespace zap::zell::detail
