#include "logging.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

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

// The file sink sits in a dist_sink, whose sink list can be swapped while other threads log
// (under its mutex): reopen_log_file() puts a fresh file sink there.
struct LogFile {
  std::mutex mutex;  // reopen() against reopen() (the signal thread; tests)
  LogSettings settings;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> slot;
};
LogFile& log_file() {
  static LogFile file;
  return file;
}

constexpr const char* kLinePattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";

spdlog::sink_ptr open_file_sink(const LogSettings& settings) {
  auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
      settings.file, static_cast<std::size_t>(settings.max_size_mb) << 20,
      static_cast<std::size_t>(settings.max_files));
  sink->set_pattern(kLinePattern);  // (a sink set into the slot later gets no pattern from it)
  return sink;
}

void log_past_the_level(spdlog::level::level_enum level, const std::string& text) {
  const std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  if (logger->level() == spdlog::level::off) return;
  if (logger->should_log(level)) {
    logger->log(level, "{}", text);
    return;
  }
  // Past the logger's level, straight to its sinks (thread-safe: they are the _mt kind).
  const spdlog::details::log_msg message(logger->name(), level, text);
  for (const spdlog::sink_ptr& sink : logger->sinks()) {
    if (!sink->should_log(message.level)) continue;
    sink->log(message);
    if (level >= logger->flush_level()) sink->flush();  // as the logger would (flush_on)
  }
}

}  // namespace

void check_log_settings(const LogSettings& settings, LogFileCheck how) {
  if (settings.file.empty()) return;
  const std::filesystem::path parent = std::filesystem::path(settings.file).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  struct stat status {};
  bool regular = true;  // a file still to be created will be one
  if (how == LogFileCheck::kCreate) {
    // Opened here first: spdlog's file sink would create missing directories on its way.
    const int fd = ::open(settings.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw ConfigError(
          fmt::format("log.file: cannot open \"{}\": {}", settings.file, std::strerror(errno)));
    }
    if (::fstat(fd, &status) == 0) regular = S_ISREG(status.st_mode);
    ::close(fd);
  } else if (::stat(settings.file.c_str(), &status) == 0) {
    regular = S_ISREG(status.st_mode);
    if (::faccessat(AT_FDCWD, settings.file.c_str(), W_OK, AT_EACCESS) != 0) {
      throw ConfigError(
          fmt::format("log.file: cannot open \"{}\": {}", settings.file, std::strerror(errno)));
    }
  } else if (::faccessat(AT_FDCWD, folder.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    throw ConfigError(
        fmt::format("log.file: cannot open \"{}\": {}", settings.file, std::strerror(errno)));
  }
  // Rotation renames the file to file.1 in its folder; spdlog truncates the log when it cannot.
  // (Not for /dev/stdout and the like, which never grow.)
  if (regular && ::faccessat(AT_FDCWD, folder.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    throw ConfigError(fmt::format("log.file: rotation cannot rename files in \"{}\": {}", folder,
                                  std::strerror(errno)));
  }
}

std::string reopen_log_file() {
  LogFile& file = log_file();
  std::lock_guard lock(file.mutex);
  if (!file.slot) return "";
  try {
    check_log_settings(file.settings);
    file.slot->set_sinks({open_file_sink(file.settings)});
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void setup_logging(const std::string& program, const LogSettings& settings) {
  check_log_settings(settings);
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!settings.file.empty()) {
    auto slot = std::make_shared<spdlog::sinks::dist_sink_mt>();
    try {
      slot->add_sink(open_file_sink(settings));
    } catch (const spdlog::spdlog_ex& e) {
      throw ConfigError("log.file: cannot open \"" + settings.file + "\": " + e.what());
    }
    sinks.push_back(slot);
    LogFile& file = log_file();
    std::lock_guard lock(file.mutex);
    file.settings = settings;
    file.slot = std::move(slot);
  }
  auto logger = std::make_shared<spdlog::logger>(program, sinks.begin(), sinks.end());
  logger->set_pattern(kLinePattern);
  spdlog::set_default_logger(logger);
  if (!set_log_level(settings.level)) throw ConfigError("log.level: unknown level");
  // Warnings and errors reach the file at once; info lines are flushed every second.
  logger->flush_on(spdlog::level::warn);
  spdlog::flush_every(std::chrono::seconds(1));
  zell::set_unobserved_exception_handler(&log_unobserved_exception);
}

void log_notice(const std::string& text) { log_past_the_level(spdlog::level::info, text); }

void log_reload_error(const std::string& text) {
  log_past_the_level(spdlog::level::err, fmt::format("reload: {}", text));
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
