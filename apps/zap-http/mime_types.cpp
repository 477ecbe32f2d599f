#include "mime_types.hpp"

#include "ascii.hpp"

namespace zap::http {

namespace {

constexpr std::size_t kMaxExtension = 16;

struct Entry {
  const char* extension;
  const char* type;
};

// The types a static site commonly serves. Text types say UTF-8: it is what editors write, and
// without a charset a browser guesses.
constexpr Entry kBuiltIn[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
};

}  // namespace

MimeTypes::MimeTypes() {
  for (const Entry& e : kBuiltIn) by_extension_.emplace(e.extension, e.type);
}

void MimeTypes::set(std::string_view extension, std::string_view type) {
  std::string key(extension);
  for (char& c : key) c = to_lower(c);
  by_extension_.insert_or_assign(std::move(key), std::string(type));
}

std::string_view MimeTypes::lookup(std::string_view path) const {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return default_;
  const std::string_view extension = name.substr(dot + 1);
  if (extension.size() > kMaxExtension) return default_;
  char lower[kMaxExtension];
  for (std::size_t i = 0; i < extension.size(); ++i) lower[i] = to_lower(extension[i]);
  const auto it = by_extension_.find(std::string_view(lower, extension.size()));
  return it == by_extension_.end() ? std::string_view(default_) : std::string_view(it->second);
}

}  // namespace zap::http
