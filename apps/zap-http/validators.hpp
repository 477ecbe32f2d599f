// Validators and conditional requests (RFC 9110 8.8, 13): the ETag zap-http gives a file and the
// checks of If-None-Match, If-Modified-Since and If-Range against it.
//
//   char etag[kMaxEtagSize];
//   std::string_view tag = format_etag(mtime, size, etag);   // "\"6566a0f1.1dcd6500-2a\""
//   if (not_modified(head, tag, mtime.tv_sec)) ... 304;
//   if (!head.range.empty() && range_applies(head.if_range, tag, mtime.tv_sec)) ... 206;
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace zap::http {

inline constexpr std::size_t kMaxEtagSize = 48;

// A strong ETag from the modification time (to the nanosecond, so two writes within a second
// that keep the size still change it) and the size; written to `out`, returned as a view of it.
std::string_view format_etag(timespec mtime, std::uint64_t size, char* out);

// True if the client's cached copy is current: If-None-Match (weak comparison) when present,
// else If-Modified-Since (modification time at or before the given date).
bool not_modified(std::string_view if_none_match, std::string_view if_modified_since,
                  std::string_view etag, std::int64_t mtime_seconds);

// True if a Range may be honoured: no If-Range, or one that matches (a strong ETag equal to
// ours, or exactly our Last-Modified date). A mismatch means "send the whole new version".
bool range_applies(std::string_view if_range, std::string_view etag, std::int64_t mtime_seconds);

}  // namespace zap::http
