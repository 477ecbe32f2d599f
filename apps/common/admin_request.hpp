// The admin endpoint's HTTP/1.1 subset: read a request head, decide the answer. Pure functions,
// so that malformed input is tested without sockets.
//
//   std::string_view head = ...;                       // bytes up to and including "\r\n\r\n"
//   AdminRequest request = parse_admin_request(head);
//   if (request.status == 200 && request.path == "/stats") ...
//   std::string reply = render_admin_response(200, "application/json", body, request.head_only);
//
// Anything that is not "GET|HEAD <target> HTTP/1.0|1.1" with a target starting with '/' is a 400;
// other methods are 405. Header lines are not interpreted (the connection is always closed after
// one answer), only checked to be lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zap::app {

// A request head larger than this is refused (431).
inline constexpr std::size_t kMaxAdminRequestHead = 8192;

struct AdminRequest {
  int status = 200;        // 200: well-formed GET/HEAD; else the error status to answer with
  std::string path;        // the target without its query string
  bool head_only = false;  // HEAD: answer without a body
};

// Length of the head (through "\r\n\r\n") if `data` holds a complete one, else 0.
std::size_t find_request_head_end(std::string_view data);

AdminRequest parse_admin_request(std::string_view head);

// A complete HTTP/1.1 response with Content-Length and "Connection: close".
std::string render_admin_response(int status, std::string_view content_type, std::string_view body,
                                  bool head_only);

}  // namespace zap::app
