// The path a request target names, as a file server must see it: percent-decoded, dot segments
// removed, never above the document root.
//
//   std::string path;                       // reused by the connection: no allocation once grown
//   std::string_view query;
//   TargetStatus s = decode_target(head.target, path, query);
//   // kOk: path is "/", "/a/b.html" or "/docs/" (a trailing slash is kept: it asks for a
//   directory)
//
// Accepted forms: origin-form ("/a?b") and absolute-form ("http://host/a?b", whose authority
// parse_request_head takes as the request's host). "*" is kAsterisk (only OPTIONS may use it).
// Refused (kBad): anything else, a malformed or NUL escape (%zz, %00), and ".." segments that would
// climb above the root -- after decoding, so "%2e%2e/" is caught too. "%2F" decodes to a separator,
// like nginx. Backslashes are ordinary bytes (this is Linux).
#pragma once

#include <string>
#include <string_view>

namespace zap::http {

enum class TargetStatus { kOk, kAsterisk, kBad };

TargetStatus decode_target(std::string_view target, std::string& path, std::string_view& query);

}  // namespace zap::http
