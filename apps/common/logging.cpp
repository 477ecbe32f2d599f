#include "logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

#include "zap/zell/unobserved_exception.hpp"

namespace zap::app {
namespace {

// A connection task that dies of an exception is detached (nobody joins it): its message goes to
// the daemon's log instead of raw stderr, so it lands in the log file and respects its format.
void log_unobserved_exception(std::exception_ptr error) noexcept {
  try {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("a task ended with an exception nobody joined: {}", e.what());
    } catch (...) {
      spdlog::error("a task ended with an exception nobody joined (not a std::exception)");
    }
  } catch (...) {
    // Logging itself failed (out of memory): nothing sensible is left to do.
  }
}

}  // namespace

void check_log_settings(const LogSettings& settings) {
  if (settings.file.empty()) return;
  // Opened here first: spdlog's file sink would create missing directories on its way.
  const int fd = ::open(settings.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw ConfigError("log.file: cannot open \"" + settings.file + "\": " + std::strerror(errno));
  }
  ::close(fd);
}

void setup_logging(const std::string& program, const LogSettings& settings) {
  check_log_settings(settings);
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
  zell::set_unobserved_exception_handler(&log_unobserved_exception);
}

void log_notice(const std::string& text) {
  const std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  if (logger->level() == spdlog::level::off) return;
  if (logger->should_log(spdlog::level::info)) {
    logger->info("{}", text);
    return;
  }
  // Past the logger's level, straight to its sinks (thread-safe: they are the _mt kind).
  const spdlog::details::log_msg message(logger->name(), spdlog::level::info, text);
  for (const spdlog::sink_ptr& sink : logger->sinks()) {
    if (sink->should_log(message.level)) sink->log(message);
  }
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
