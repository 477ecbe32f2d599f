// JsonReader: strict, typed reading of a JSON config, with errors that name the JSON path.
//
//   JsonReader root(load_json_file("echo.json"), "");
//   int port = root.integer("port", 1, 65535, 7000);        // optional, default 7000
//   for (JsonReader& l : root.array("listeners")) { ... l.finish(); }
//   root.finish();                                            // any key not read is an error
//
// Every mistake throws ConfigError with one line such as
//   listeners[1].port: expected integer 1-65535, got "80a"
// so that a daemon can print it and exit non-zero. Start-up only: exceptions are fine here.
// Not thread-safe; a reader borrows the json it was given.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zap::app {

// Its message is one printable line: control characters from the config (a key or value with a
// newline) are escaped, and it is cut at kMaxConfigErrorLength bytes.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what);
};
inline constexpr std::size_t kMaxConfigErrorLength = 1024;

// How deep a config's objects and arrays may nest: every zap config needs fewer than 10 levels,
// and a deeper one is a mistake (or an attack on the parser's memory).
inline constexpr int kMaxConfigDepth = 32;

// Reads and parses a JSON file; a syntax error names the file, line and column.
nlohmann::json load_json_file(const std::string& path);
nlohmann::json parse_json_text(std::string_view text, const std::string& origin);
// The folder of the config file at `config_path` ("" without one), for resolve_config_path.
std::string config_folder(const std::string& config_path);
// A path a config names: as given if absolute (or without a config file), else relative to the
// config's folder -- a config means the same files from wherever the daemon is started.
std::string resolve_config_path(const std::string& config_folder, const std::string& path);

class JsonReader {
 public:
  // `path` is this node's JSON path ("" for the root, "listeners[1]" for an element).
  JsonReader(const nlohmann::json& node, std::string path);

  bool has(std::string_view key) const;

  std::string string(std::string_view key, std::string fallback);
  std::string required_string(std::string_view key);
  // One of `choices`, e.g. {"auto", "io_uring", "epoll"}.
  std::string choice(std::string_view key, const std::vector<std::string>& choices,
                     std::string fallback);
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::int64_t fallback);
  std::int64_t required_integer(std::string_view key, std::int64_t min, std::int64_t max);
  bool boolean(std::string_view key, bool fallback);
  std::vector<std::string> string_array(std::string_view key);
  // An object whose values are all strings ({"md": "text/markdown"}), in key order.
  std::vector<std::pair<std::string, std::string>> string_map(std::string_view key);

  // A nested object; std::nullopt when the key is absent.
  std::optional<JsonReader> object(std::string_view key);
  // Elements of an array of objects; empty when the key is absent.
  std::vector<JsonReader> array(std::string_view key);

  // Throws for the first key that no accessor asked for: a typo must not pass silently.
  void finish() const;

  [[noreturn]] void fail(std::string_view key, const std::string& what) const;
  std::string path_of(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json* lookup(std::string_view key);

  const nlohmann::json& node_;
  std::string path_;
  std::set<std::string, std::less<>> used_;
};

// A JSON value as it appeared, for messages: strings quoted, others dumped.
std::string describe_json(const nlohmann::json& value);

}  // namespace zap::app
