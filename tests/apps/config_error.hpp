// Shared by the config tests: the message of the ConfigError a piece of config reading throws.
#pragma once

#include <functional>
#include <string>

#include "config_reader.hpp"

namespace zap::app {

// What `body` threw as a ConfigError, or "(no error)".
inline std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace zap::app
