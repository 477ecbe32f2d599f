#include "server_names.hpp"

#include <algorithm>

#include "config_reader.hpp"

namespace zap::app {

namespace {

constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

}  // namespace

bool is_server_name_pattern(std::string_view name) {
  const std::string_view bare = name.substr(name.rfind("*.", 0) == 0 ? 2 : 0);
  return !bare.empty() && bare.size() <= 253 && bare.front() != '.' && bare.back() != '.' &&
         bare.find("..") == std::string_view::npos &&
         std::all_of(bare.begin(), bare.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
         });
}

std::vector<std::string> read_server_names(JsonReader& reader, std::string_view noun) {
  std::vector<std::string> names = reader.string_array("names");
  if (names.empty()) reader.fail("names", "expected at least one " + std::string(noun));
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string& name = names[i];
    std::transform(name.begin(), name.end(), name.begin(), lower);
    if (!is_server_name_pattern(name)) {
      reader.fail("names[" + std::to_string(i) + "]",
                  "expected a " + std::string(noun) +
                      " like \"example.com\" or \"*.example.com\", got \"" + name + "\"");
    }
  }
  return names;
}

void ServerNames::add(std::string_view name, std::size_t target) {
  std::string text(name);
  std::transform(text.begin(), text.end(), text.begin(), lower);
  const bool wildcard = text.rfind("*.", 0) == 0;
  names_.push_back({wildcard ? text.substr(1) : text, wildcard, target});
}

std::size_t ServerNames::find(std::string_view name, std::size_t fallback) const {
  std::size_t best = fallback;
  std::size_t best_length = 0;
  for (const Name& candidate : names_) {
    if (!candidate.wildcard) {
      if (same_ignoring_case(name, candidate.text)) return candidate.target;  // exact wins
    } else if (name.size() > candidate.text.size() && candidate.text.size() > best_length &&
               same_ignoring_case(name.substr(name.size() - candidate.text.size()),
                                  candidate.text)) {
      best = candidate.target;
      best_length = candidate.text.size();
    }
  }
  return best;
}

}  // namespace zap::app
