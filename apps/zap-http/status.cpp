#include "status.hpp"

#include <array>
#include <string>

namespace zap::http {

namespace {

struct Status {
  int code;
  const char* reason;
};

constexpr Status kStatuses[] = {
    {200, "OK"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {421, "Misdirected Request"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

// Built once, on first use (start-up: the first error), then only read: thread-safe (magic
// static) and allocation-free afterwards.
const std::array<std::string, std::size(kStatuses)>& pages() {
  static const auto built = [] {
    std::array<std::string, std::size(kStatuses)> out;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::string title = std::to_string(kStatuses[i].code) + " " + kStatuses[i].reason;
      out[i] = "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body><h1>" +
               title + "</h1><hr><p>zap-http</p></body></html>\n";
    }
    return out;
  }();
  return built;
}

std::size_t index_of(int status) {
  for (std::size_t i = 0; i < std::size(kStatuses); ++i) {
    if (kStatuses[i].code == status) return i;
  }
  return index_of(500);
}

}  // namespace

std::string_view reason_phrase(int status) { return kStatuses[index_of(status)].reason; }

std::string_view error_page(int status) { return pages()[index_of(status)]; }

}  // namespace zap::http
