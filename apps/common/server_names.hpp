// ServerNames: which of several targets a host name selects, by nginx's server_name rules --
// shared by zap-http's virtual hosts (by Host) and zap-proxy's SNI routes (by the TLS server name).
//
//   ServerNames names;
//   names.add("example.com", 1);                           // exact
//   names.add("*.example.com", 2);                         // any name under it, not itself
//   std::size_t target = names.find("WWW.example.com", 0); // 2; no match: the fallback (0)
//
// Names compare without case. An exact name wins, else the longest wildcard that matches. A
// linear scan without allocation: meant for tens of names, as configs have, not for thousands.
// Thread-safety: add() while building; find() from any thread once built.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zap::app {

class JsonReader;

// A name as a config may give it, lowercase: "example.com" or "*.example.com" -- labels of
// a-z 0-9 '-', 1-253 characters in all, no empty label.
bool is_server_name_pattern(std::string_view name);

// `reader`'s "names": at least one, each lowercased and checked by is_server_name_pattern (else
// a ConfigError naming "names[i]" and calling each a `noun`: "host name", "server name").
std::vector<std::string> read_server_names(JsonReader& reader, std::string_view noun);

class ServerNames {
 public:
  void add(std::string_view name, std::size_t target);
  std::size_t find(std::string_view name, std::size_t fallback) const;
  bool empty() const { return names_.empty(); }

 private:
  struct Name {
    std::string text;  // lowercase; for a wildcard, the suffix with its dot (".example.com")
    bool wildcard;
    std::size_t target;
  };
  std::vector<Name> names_;
};

}  // namespace zap::app
