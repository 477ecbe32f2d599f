#include "config_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace zap::app {

namespace {

// nlohmann reports a byte offset; people want line:column.
std::string line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

// Refuses a key given twice in one object: JSON parsers keep the last one silently, so the first
// -- often the one the reader is looking at -- would do nothing. Follows the parse to name the
// key's JSON path ("pools[1].retries") as the other config errors do.
class DuplicateKeyCheck {
 public:
  bool operator()(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start: {
        std::string step = next_step();
        if (depth >= kMaxConfigDepth) {
          throw ConfigError(path_with(step) + ": nested deeper than " +
                            std::to_string(kMaxConfigDepth) + " levels");
        }
        frames_.push_back({event == Event::object_start, std::move(step), {}, {}, 0});
        break;
      }
      case Event::object_end:
      case Event::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case Event::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          throw ConfigError(path_with(next_step()) + ": given twice (JSON keeps only the last)");
        }
        break;
      }
      case Event::value:
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::string step;            // how its parent reaches it: "pools", ".retries" or "[1]"
    std::set<std::string> keys;  // object: the keys so far
    std::string key;             // object: the key whose value comes next
    std::size_t index;           // array: the elements so far
  };
  // The step from the innermost container to the value about to be parsed. (Each frame keeps
  // only its own step, so memory stays linear in the depth; paths are built for errors alone.)
  std::string next_step() {
    if (frames_.empty()) return "";
    Frame& frame = frames_.back();
    if (!frame.object) return "[" + std::to_string(frame.index++) + "]";
    return frames_.size() == 1 ? frame.key : "." + frame.key;
  }
  std::string path_with(const std::string& last_step) const {
    std::string path;
    for (const Frame& frame : frames_) path += frame.step;
    path += last_step;
    return path.empty() ? std::string("config") : path;
  }

  std::vector<Frame> frames_;
};

// One line: control characters as \n, \t or \xNN.
std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), kMaxConfigErrorLength) + 8);
  for (const char c : text) {
    if (out.size() >= kMaxConfigErrorLength) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(const std::string& what) : std::runtime_error(printable(what)) {}

std::string config_folder(const std::string& config_path) {
  return config_path.empty() ? std::string()
                             : std::filesystem::path(config_path).parent_path().string();
}

std::string resolve_config_path(const std::string& config_folder, const std::string& path) {
  if (path.empty() || path.front() == '/' || config_folder.empty()) return path;
  return config_folder + "/" + path;
}

nlohmann::json parse_json_text(std::string_view text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(), DuplicateKeyCheck(),
                                 /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    throw ConfigError(origin + ":" + line_and_column(text, e.byte > 0 ? e.byte - 1 : 0) +
                      ": invalid JSON: " + what);
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double: 1e400
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos)
      what = what.substr(bracket + 2);
    throw ConfigError(origin + ": invalid JSON: " + what);
  }
}

nlohmann::json load_json_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(path + ": a directory, not a config file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(path + ": cannot open config file: " +
                      std::error_code(errno, std::system_category()).message());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read config file");
  return parse_json_text(text.str(), path);
}

std::string describe_json(const nlohmann::json& value) {
  // Escaped (a string with a newline stays on the error's line), and invalid UTF-8 replaced
  // rather than thrown about; then cut: the message is about where the mistake is.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::size_t limit = value.is_string() ? 80 : 40;
  if (text.size() > limit) text = text.substr(0, limit - 3) + "...";
  return text;
}

JsonReader::JsonReader(const nlohmann::json& node, std::string path)
    : node_(node), path_(std::move(path)) {
  if (!node_.is_object()) {
    throw ConfigError((path_.empty() ? std::string("config") : path_) + ": expected object, got " +
                      describe_json(node_));
  }
}

std::string JsonReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void JsonReader::fail(std::string_view key, const std::string& what) const {
  throw ConfigError(path_of(key) + ": " + what);
}

bool JsonReader::has(std::string_view key) const { return node_.contains(key); }

const nlohmann::json* JsonReader::lookup(std::string_view key) {
  used_.emplace(key);
  auto it = node_.find(key);
  return it == node_.end() ? nullptr : &*it;
}

std::string JsonReader::string(std::string_view key, std::string fallback) {
  const auto* value = lookup(key);
  if (value == nullptr) return fallback;
  if (!value->is_string()) fail(key, "expected string, got " + describe_json(*value));
  return value->get<std::string>();
}

std::string JsonReader::required_string(std::string_view key) {
  if (!has(key)) fail(key, "required string is missing");
  return string(key, {});
}

std::string JsonReader::choice(std::string_view key, const std::vector<std::string>& choices,
                               std::string fallback) {
  const auto* value = lookup(key);
  if (value == nullptr) return fallback;
  std::string expected = "expected one of";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    expected += (i == 0 ? " \"" : ", \"") + choices[i] + "\"";
  }
  if (!value->is_string()) fail(key, expected + ", got " + describe_json(*value));
  const auto text = value->get<std::string>();
  for (const auto& c : choices) {
    if (c == text) return text;
  }
  fail(key, expected + ", got " + describe_json(*value));
}

std::int64_t JsonReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                 std::int64_t fallback) {
  const auto* value = lookup(key);
  if (value == nullptr) return fallback;
  const std::string expected =
      "expected integer " + std::to_string(min) + "-" + std::to_string(max) + ", got ";
  if (!value->is_number_integer()) fail(key, expected + describe_json(*value));
  if (value->is_number_unsigned() && value->get<std::uint64_t>() > std::uint64_t(INT64_MAX)) {
    fail(key, expected + describe_json(*value));
  }
  const auto number = value->get<std::int64_t>();
  if (number < min || number > max) fail(key, expected + describe_json(*value));
  return number;
}

std::int64_t JsonReader::required_integer(std::string_view key, std::int64_t min,
                                          std::int64_t max) {
  if (!has(key)) {
    fail(key,
         "required integer " + std::to_string(min) + "-" + std::to_string(max) + " is missing");
  }
  return integer(key, min, max, 0);
}

bool JsonReader::boolean(std::string_view key, bool fallback) {
  const auto* value = lookup(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) fail(key, "expected true or false, got " + describe_json(*value));
  return value->get<bool>();
}

std::vector<std::string> JsonReader::string_array(std::string_view key) {
  const auto* value = lookup(key);
  std::vector<std::string> out;
  if (value == nullptr) return out;
  if (!value->is_array()) fail(key, "expected array of strings, got " + describe_json(*value));
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) {
      throw ConfigError(path_of(key) + "[" + std::to_string(i) + "]: expected string, got " +
                        describe_json(item));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> JsonReader::string_map(std::string_view key) {
  const auto* value = lookup(key);
  std::vector<std::pair<std::string, std::string>> out;
  if (value == nullptr) return out;
  if (!value->is_object()) fail(key, "expected object of strings, got " + describe_json(*value));
  for (const auto& [name, item] : value->items()) {
    if (!item.is_string()) {
      throw ConfigError(path_of(key) + "." + name + ": expected string, got " +
                        describe_json(item));
    }
    out.emplace_back(name, item.get<std::string>());
  }
  return out;
}

std::optional<JsonReader> JsonReader::object(std::string_view key) {
  const auto* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  return JsonReader(*value, path_of(key));
}

std::vector<JsonReader> JsonReader::array(std::string_view key) {
  const auto* value = lookup(key);
  std::vector<JsonReader> out;
  if (value == nullptr) return out;
  if (!value->is_array()) fail(key, "expected array, got " + describe_json(*value));
  out.reserve(value->size());
  for (std::size_t i = 0; i < value->size(); ++i) {
    out.emplace_back((*value)[i], path_of(key) + "[" + std::to_string(i) + "]");
  }
  return out;
}

void JsonReader::finish() const {
  for (const auto& [key, value] : node_.items()) {
    if (!used_.contains(key)) fail(key, "unknown key");
  }
}

}  // namespace zap::app
