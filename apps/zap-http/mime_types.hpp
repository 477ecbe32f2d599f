// MimeTypes: file extension -> Content-Type, from a built-in table that a config can extend or
// override ("mime_types": {"wasm": "application/wasm"}), with a default for everything else.
//
//   MimeTypes types;                          // the built-in table, default
//   application/octet-stream types.set("md", "text/markdown; charset=utf-8"); std::string_view type
//   = types.lookup("/docs/index.HTML");   // "text/html; charset=utf-8"
//
// Extensions are matched without case. lookup() allocates nothing and returns a view into the
// table, valid while the MimeTypes lives. Thread-safety: const members may be called
// concurrently; set() only before sharing.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace zap::http {

class MimeTypes {
 public:
  MimeTypes();

  // Adds or replaces the type of `extension` (without the dot, any case).
  void set(std::string_view extension, std::string_view type);
  void set_default(std::string_view type) { default_ = type; }

  // The type for the last path segment's extension, or the default.
  std::string_view lookup(std::string_view path) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> by_extension_;
  std::string default_ = "application/octet-stream";
};

}  // namespace zap::http
