#include "zap/zuma/this_thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "os_cpu_set.hpp"

namespace zap::zuma::this_thread {
namespace {

constexpr std::size_t kMaxNameLength = 15;

std::error_code os_error(int code) noexcept { return {code, std::system_category()}; }

}  // namespace

std::error_code set_name(std::string_view name) {
  if (name.size() > kMaxNameLength || name.find('\0') != std::string_view::npos) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  char buffer[kMaxNameLength + 1] = {};
  name.copy(buffer, name.size());
  const int error = pthread_setname_np(pthread_self(), buffer);
  return error != 0 ? os_error(error) : std::error_code{};
}

Result<std::string> name() {
  char buffer[kMaxNameLength + 1] = {};
  const int error = pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
  if (error != 0) return os_error(error);
  return std::string(buffer);
}

std::error_code set_affinity(const CpuSet& cpus) noexcept {
  if (cpus.empty()) return std::make_error_code(std::errc::invalid_argument);
  const cpu_set_t os_cpus = detail::to_os_cpu_set(cpus);
  // pid 0: the calling thread (sched_setaffinity acts on a thread id, not the whole process).
  if (sched_setaffinity(0, sizeof(os_cpus), &os_cpus) != 0) return os_error(errno);
  return {};
}

Result<CpuSet> affinity() noexcept {
  cpu_set_t os_cpus;
  CPU_ZERO(&os_cpus);
  if (sched_getaffinity(0, sizeof(os_cpus), &os_cpus) != 0) return os_error(errno);
  return detail::from_os_cpu_set(os_cpus);
}

Result<unsigned> current_cpu() noexcept {
  const int cpu = sched_getcpu();
  if (cpu < 0) return os_error(errno);
  return static_cast<unsigned>(cpu);
}

Result<unsigned> current_node() noexcept {
  unsigned cpu = 0;
  unsigned node = 0;
  if (syscall(SYS_getcpu, &cpu, &node, nullptr) != 0) return os_error(errno);
  return node;
}

}  // namespace zap::zuma::this_thread
