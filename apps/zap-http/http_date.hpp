// HTTP dates (RFC 9110 5.6.7): formatting as IMF-fixdate, parsing of all three forms a recipient
// must accept. Locale- and time-zone-free (no strftime/strptime/timegm environment lookups).
//
//   char text[kHttpDateSize];
//   format_http_date(std::time(nullptr), text);        // "Sun, 06 Nov 1994 08:49:37 GMT"
//   std::optional<std::int64_t> t = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT");
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace zap::http {

inline constexpr std::size_t kHttpDateSize = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Writes exactly kHttpDateSize characters (no terminator) for `unix_seconds` (>= 0).
void format_http_date(std::int64_t unix_seconds, char* out);

// IMF-fixdate, obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"); nullopt for anything else.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace zap::http
