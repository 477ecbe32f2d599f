// Validators and conditional requests (RFC 9110 8.8, 13): the ETag zap-http gives a file and the
// checks of If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since and If-Range against
// it, evaluated in the order of RFC 9110 13.2.2.
//
//   char etag[kMaxEtagSize];
//   std::string_view tag = format_etag(mtime, size, etag);   // "\"6566a0f1.1dcd6500-2a\""
//   if (precondition_failed(head.if_match, head.if_unmodified_since, tag, mtime.tv_sec)) ... 412;
//   if (not_modified(head.if_none_match, head.if_modified_since, tag, mtime.tv_sec)) ... 304;
//   if (!head.range.empty() && range_applies(head.if_range, tag, mtime.tv_sec)) ... 206;
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "field_lines.hpp"

namespace zap::http {

inline constexpr std::size_t kMaxEtagSize = 48;

// A strong ETag from the modification time (to the nanosecond, so two writes within a second
// that keep the size still change it) and the size; written to `out`, returned as a view of it.
std::string_view format_etag(timespec mtime, std::uint64_t size, char* out);

// True if the request must fail with 412: If-Match (strong comparison; "*": any file; every line
// of it) matches no tag, or, without If-Match, the file changed after If-Unmodified-Since (an
// unparsable date is ignored). Used to avoid overwriting or resuming from another version than the
// client had.
bool precondition_failed(const FieldLines& if_match, std::string_view if_unmodified_since,
                         std::string_view etag, std::int64_t mtime_seconds);

// True if the client's cached copy is current: If-None-Match (weak comparison) when present,
// else If-Modified-Since (modification time at or before the given date; a date later than now
// is invalid, and ignored).
bool not_modified(const FieldLines& if_none_match, std::string_view if_modified_since,
                  std::string_view etag, std::int64_t mtime_seconds);

// True if a Range may be honoured: no If-Range, or one that matches (a strong ETag equal to
// ours, or exactly our Last-Modified date). A mismatch means "send the whole new version".
bool range_applies(std::string_view if_range, std::string_view etag, std::int64_t mtime_seconds);

}  // namespace zap::http
