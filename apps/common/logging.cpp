#include "logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace zap::app {

void setup_logging(const std::string& program, const LogSettings& settings) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!settings.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          settings.file, static_cast<std::size_t>(settings.max_size_mb) << 20,
          static_cast<std::size_t>(settings.max_files)));
    } catch (const spdlog::spdlog_ex& e) {
      throw ConfigError("log.file: cannot open \"" + settings.file + "\": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>(program, sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_default_logger(logger);
  if (!set_log_level(settings.level)) throw ConfigError("log.level: unknown level");
  // Warnings and errors reach the file at once; info lines are flushed every second.
  logger->flush_on(spdlog::level::warn);
  spdlog::flush_every(std::chrono::seconds(1));
}

bool set_log_level(const std::string& level) {
  for (const auto& name : log_level_names()) {
    if (name == level) {
      spdlog::set_level(spdlog::level::from_str(level));
      return true;
    }
  }
  return false;
}

}  // namespace zap::app
