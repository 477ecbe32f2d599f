#include "zap/zuma/parse_error.hpp"

namespace zap::zuma {

std::string ParseError::to_string() const {
  return "at offset " + std::to_string(position) + ": " + message;
}

}  // namespace zap::zuma
