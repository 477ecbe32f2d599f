// HTTP status codes zap-http answers with: reason phrases and the small HTML page sent as the
// body of an error.
//
//   std::string_view reason = reason_phrase(404);   // "Not Found"
//   std::string_view page = error_page(404);        // "<html>...404 Not Found...</html>\n"
#pragma once

#include <string_view>

namespace zap::http {

std::string_view reason_phrase(int status);

// A short HTML body for a 4xx/5xx status; static storage, never empty.
std::string_view error_page(int status);

}  // namespace zap::http
