#include "admin_request.hpp"

#include <algorithm>

namespace zap::app {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '+';
}

bool printable(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::size_t find_request_head_end(std::string_view data) {
  const auto end = data.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

AdminRequest parse_admin_request(std::string_view head) {
  AdminRequest bad;
  bad.status = 400;
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return bad;
  const std::string_view line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  if (first_space == std::string_view::npos || first_space == 0) return bad;
  const auto second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return bad;
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  for (const char c : method) {
    if (!is_token_char(c)) return bad;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad;
  if (target.empty() || target.front() != '/' || !printable(target)) return bad;
  // Header lines: each must be "name: value"; bare CR or LF inside a line is malformed.
  std::string_view rest = head.substr(line_end + 2);
  while (!rest.empty() && rest != "\r\n") {
    const auto end = rest.find("\r\n");
    if (end == std::string_view::npos) return bad;
    const std::string_view header = rest.substr(0, end);
    // The name is a token right up to the colon: "Host : x" is a 400 (RFC 9112 5.1).
    const auto colon = header.find(':');
    const std::string_view name = header.substr(0, colon);
    if (colon == std::string_view::npos || colon == 0 ||
        std::any_of(name.begin(), name.end(), [](char c) { return !is_token_char(c); }) ||
        header.find('\n') != std::string_view::npos ||
        header.find('\r') != std::string_view::npos) {
      return bad;
    }
    rest = rest.substr(end + 2);
  }
  AdminRequest request;
  if (method != "GET" && method != "HEAD") {
    request.status = 405;
    return request;
  }
  request.head_only = method == "HEAD";
  request.path = std::string(target.substr(0, target.find('?')));
  return request;
}

std::string render_admin_response(int status, std::string_view content_type, std::string_view body,
                                  bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 405) out += "Allow: GET, HEAD\r\n";
  if (status == 503) out += "Retry-After: 1\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace zap::app
