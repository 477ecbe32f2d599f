#include "descriptor_limit.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

namespace zap::app {

DescriptorLimit raise_descriptor_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  DescriptorLimit result{limit.rlim_cur, limit.rlim_cur};
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t was = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    result.now = ::setrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : was;
  }
  return result;
}

void report_descriptor_limit(const DescriptorLimit& limit, const DescriptorNeed& need) {
  if (limit.now == 0) return;  // getrlimit failed: nothing known
  if (limit.now > limit.was) {
    spdlog::info("descriptors: soft limit raised from {} to {} (the hard limit)", limit.was,
                 limit.now);
  }
  if (need.count > limit.now && limit.now != RLIM_INFINITY) {
    spdlog::warn(
        "descriptors: {} needs about {}, but the limit is {}: past it new clients wait in the "
        "listen backlog (raise the hard limit: ulimit -Hn, or LimitNOFILE= under systemd)",
        need.for_what, need.count, limit.now);
  }
}

void check_descriptor_limit(const DescriptorNeed& need) {
  report_descriptor_limit(raise_descriptor_limit(), need);
}

}  // namespace zap::app
