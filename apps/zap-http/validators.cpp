#include "validators.hpp"

#include <cstdio>
#include <ctime>

#include "ascii.hpp"
#include "http_date.hpp"

namespace zap::http {

namespace {

// The opaque part of an entity-tag ("\"x\"" of W/"x"), and whether it was weak; false when
// `tag` is not an entity-tag.
bool split_entity_tag(std::string_view tag, std::string_view& opaque, bool& weak) {
  weak = tag.substr(0, 2) == "W/";
  if (weak) tag.remove_prefix(2);
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return false;
  opaque = tag;
  return true;
}

// Weak comparison (RFC 9110 8.8.3.2) ignores the W/ of either tag; strong comparison needs both
// strong. "*" -- only as the whole field (RFC 9110 13.1.1: "*" / #entity-tag) -- matches any
// current representation, and the file exists; within a list it is no entity-tag.
bool any_tag_matches(const FieldLines& list, std::string_view etag, bool strong = false) {
  if (list.lines() == 1 && list.line(0) == "*") return true;
  std::string_view ours;
  bool ours_weak = false;
  if (!split_entity_tag(etag, ours, ours_weak)) return false;
  return list.any_item([&](std::string_view item) {
    std::string_view theirs;
    bool weak = false;
    return split_entity_tag(item, theirs, weak) && theirs == ours &&
           !(strong && (weak || ours_weak));
  });
}

}  // namespace

std::string_view format_etag(timespec mtime, std::uint64_t size, char* out) {
  const int n = std::snprintf(
      out, kMaxEtagSize, "\"%llx.%lx-%llx\"", static_cast<unsigned long long>(mtime.tv_sec),
      static_cast<unsigned long>(mtime.tv_nsec), static_cast<unsigned long long>(size));
  return {out, static_cast<std::size_t>(n)};
}

bool precondition_failed(const FieldLines& if_match, std::string_view if_unmodified_since,
                         std::string_view etag, std::int64_t mtime_seconds) {
  if (!if_match.empty()) {
    return !any_tag_matches(if_match, etag, true);
  }
  if (if_unmodified_since.empty()) return false;
  const std::optional<std::int64_t> since = parse_http_date(trim_ows(if_unmodified_since));
  return since && mtime_seconds > *since;
}

bool not_modified(const FieldLines& if_none_match, std::string_view if_modified_since,
                  std::string_view etag, std::int64_t mtime_seconds) {
  if (!if_none_match.empty()) {
    return any_tag_matches(if_none_match, etag);
  }
  if (if_modified_since.empty()) return false;
  const std::optional<std::int64_t> since = parse_http_date(trim_ows(if_modified_since));
  return since && mtime_seconds <= *since && *since <= ::time(nullptr);
}

bool range_applies(std::string_view if_range, std::string_view etag, std::int64_t mtime_seconds) {
  if_range = trim_ows(if_range);
  if (if_range.empty()) return true;
  std::string_view opaque;
  bool weak = false;
  if (split_entity_tag(if_range, opaque, weak)) {
    std::string_view ours;
    bool ours_weak = false;
    return !weak && split_entity_tag(etag, ours, ours_weak) && !ours_weak && opaque == ours;
  }
  const std::optional<std::int64_t> date = parse_http_date(if_range);
  return date && *date == mtime_seconds;
}

}  // namespace zap::http
