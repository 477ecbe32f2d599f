#include "zap/zuma/error.hpp"

#include <string>

namespace zap::zuma {
namespace {

class ZumaCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zap.zuma"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::kNumaUnavailable:
        return "NUMA memory policy is not available (kernel or sandbox)";
      case Errc::kNoSuchNode:
        return "no such NUMA node, or node not allowed for this process";
      case Errc::kHugePagesUnavailable:
        return "huge pages are not available";
      case Errc::kInvalidTopology:
        return "inconsistent topology description";
      case Errc::kMalformedSystemFile:
        return "malformed sysfs/procfs file";
    }
    return "unknown zap.zuma error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& zuma_category() noexcept {
  static const ZumaCategory category;
  return category;
}

}  // namespace zap::zuma
