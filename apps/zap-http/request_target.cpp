#include "request_target.hpp"

#include "ascii.hpp"

namespace zap::http {

namespace {

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char lower = to_lower(c);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

// Percent-decodes `raw` into `out`; false for a malformed escape or a NUL byte.
bool percent_decode(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      const int high = hex_value(raw[i + 1]);
      const int low = hex_value(raw[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

// Removes empty, "." and ".." segments of the absolute path in `path`, in place (the output
// never runs ahead of the input). False if ".." would climb above the root.
bool remove_dot_segments(std::string& path) {
  std::size_t write = 0;  // path[0, write) is the normalized prefix, "" or "/seg/seg"
  bool trailing_slash = false;
  std::size_t read = 0;
  while (read < path.size()) {
    // path[read] is '/': the segment runs to the next '/' or the end.
    std::size_t end = path.find('/', read + 1);
    if (end == std::string::npos) end = path.size();
    const std::size_t length = end - read - 1;
    const bool dot = length == 1 && path[read + 1] == '.';
    const bool dot_dot = length == 2 && path[read + 1] == '.' && path[read + 2] == '.';
    trailing_slash = length == 0 || dot || dot_dot;
    if (dot_dot) {
      if (write == 0) return false;
      write = path.rfind('/', write - 1);
    } else if (length > 0 && !dot) {
      // write <= read: a forward copy never overwrites bytes not yet read.
      for (std::size_t k = 0; k <= length; ++k) path[write + k] = path[read + k];
      write += length + 1;
    }
    read = end;
  }
  path.resize(write);
  if (path.empty() || trailing_slash) path.push_back('/');
  return true;
}

}  // namespace

TargetStatus decode_target(std::string_view target, std::string& path, std::string_view& query) {
  query = {};
  if (target == "*") return TargetStatus::kAsterisk;
  for (const std::string_view scheme :
       {std::string_view("http://"), std::string_view("https://")}) {
    if (starts_with_ignore_case(target, scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t path_start = target.find_first_of("/?#");
      target =
          path_start == std::string_view::npos ? std::string_view() : target.substr(path_start);
      if (target.empty() || target.front() != '/') {
        // "http://host" or "http://host?q": the root, with whatever query followed.
        path.assign(1, '/');  // (not = "/": GCC 12 raises a false -Wrestrict)
        if (!target.empty() && target.front() == '?') query = target.substr(1);
        if (const std::size_t hash = query.find('#'); hash != std::string_view::npos) {
          query = query.substr(0, hash);
        }
        return TargetStatus::kOk;
      }
      break;
    }
  }
  if (target.empty() || target.front() != '/') return TargetStatus::kBad;
  if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);  // a fragment is never sent by a conforming client
  }
  std::string_view raw_path = target;
  if (const std::size_t question = target.find('?'); question != std::string_view::npos) {
    raw_path = target.substr(0, question);
    query = target.substr(question + 1);
  }
  if (!percent_decode(raw_path, path)) return TargetStatus::kBad;
  if (!remove_dot_segments(path)) return TargetStatus::kBad;
  return TargetStatus::kOk;
}

}  // namespace zap::http
