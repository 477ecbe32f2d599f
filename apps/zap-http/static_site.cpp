#include "static_site.hpp"

#include <cerrno>

#include "ascii.hpp"
#include "http_date.hpp"
#include "multipart.hpp"
#include "request_target.hpp"
#include "status.hpp"
#include "validators.hpp"

namespace zap::http {

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";

int status_for_open_error(std::error_code ec) {
  switch (ec.value()) {
    case ENOENT:
    case ENOTDIR:
      return 404;
    case EACCES:
    case EPERM:
    case EXDEV:  // RESOLVE_BENEATH: the path leads out of the root
    case ELOOP:  // a magic link, or a symlink loop
      return 403;
    case ENAMETOOLONG:  // a name longer than any file can have: there is no such file
      return 404;
    case ENXIO:  // a Unix socket (or a device without its driver): not a file to serve
      return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:  // a file rewritten on every read attempt
      return 503;
    default:
      return 500;
  }
}

// Unreserved characters, sub-delims, ':', '@' and '/': what a path may carry unencoded.
bool is_unreserved_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~/!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

// Appends `text` percent-encoded where a path segment needs it. The decoded path may hold any
// byte but NUL (CR and LF included): encoding is what keeps it out of the header's syntax.
void append_encoded(std::string& out, std::string_view text, bool keep_query_chars) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_unreserved_path_char(c) || (keep_query_chars && (c == '?' || c == '%'))) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

// More entries than this are cut from a listing (and the page says so).
constexpr std::size_t kMaxListing = 10000;

void append_html_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
}

// An autoindex page: a table of names (linked), modification times and sizes.
void render_listing(std::string_view path, const std::vector<DirectoryEntry>& entries,
                    bool truncated, std::string& out) {
  out.assign("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
  append_html_escaped(out, path);
  out += "</title></head><body>\n<h1>Index of ";
  append_html_escaped(out, path);
  out += "</h1>\n<table>\n";
  if (path != "/") out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const DirectoryEntry& e : entries) {
    // "./" first: a name like "javascript:x" must stay a relative link, not become a scheme.
    out += "<tr><td><a href=\"./";
    std::string href;
    append_encoded(href, e.name, false);
    append_html_escaped(out, href);  // (sub-delims like '&' stay unencoded in a URL)
    if (e.directory) out.push_back('/');
    out += "\">";
    append_html_escaped(out, e.name);
    if (e.directory) out.push_back('/');
    out += "</a></td><td>";
    if (e.mtime > 0) {
      char date[kHttpDateSize];
      format_http_date(e.mtime, date);
      out.append(date, kHttpDateSize);
    }
    out += "</td><td>";
    out += e.directory ? std::string("-") : std::to_string(e.size);
    out += "</td></tr>\n";
  }
  out += "</table>\n";
  if (truncated) out += "<p>(more than " + std::to_string(kMaxListing) + " entries: cut)</p>\n";
  out += "</body></html>\n";
}

}  // namespace

bool accepts_gzip(const FieldLines& accept_encoding) {
  bool gzip_seen = false;
  bool gzip_refused = false;
  bool star = false;
  accept_encoding.any_item([&](std::string_view item) {
    std::string_view coding = item;
    bool refused = false;  // ";q=0", ";q=0.0", ... : "not acceptable"
    if (const std::size_t semi = item.find(';'); semi != std::string_view::npos) {
      coding = trim_ows(item.substr(0, semi));
      std::string_view q = trim_ows(item.substr(semi + 1));
      if (starts_with_ignore_case(q, "q=")) {
        q.remove_prefix(2);
        refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (equals_ignore_case(coding, "gzip") || equals_ignore_case(coding, "x-gzip")) {
      gzip_seen = true;
      gzip_refused = refused;
      return true;  // the first mention of gzip decides
    }
    if (coding == "*") star = !refused;
    return false;
  });
  return gzip_seen ? !gzip_refused : star;
}

void error_response(int status, Response& response) {
  response.status = status;
  response.content_type = kHtml;
  response.body = error_page(status);
  response.length = response.body.size();
  response.allow = status == 405;
  response.retry_later = status == 503;
}

void StaticSite::respond(const RequestHead& head, std::int64_t now_ns, RequestScratch& scratch,
                         Response& response) {
  response.reset();
  response.send_body = head.method != Method::kHead;
  if (head.method == Method::kOther) return error_response(405, response);
  std::string_view query;
  const TargetStatus target = decode_target(head.target, scratch.path, query);
  if (head.method == Method::kOptions && target != TargetStatus::kBad) {
    response.status = 204;
    response.allow = true;
    response.send_body = false;
    return;
  }
  if (target != TargetStatus::kOk) return error_response(400, response);

  std::error_code ec;
  std::shared_ptr<const CachedFile> file = cache_.open(scratch.path, now_ns, ec);
  if (!file) return error_response(status_for_open_error(ec), response);
  if (!file->directory) {
    return serve_file(head, scratch.path, now_ns, scratch, std::move(file), response);
  }
  if (scratch.path.back() == '/') return serve_directory(head, now_ns, scratch, response);

  // A directory without its slash: relative links inside its index would resolve against the
  // parent, so send the client to the canonical name (as nginx does).
  scratch.location.clear();
  append_encoded(scratch.location, scratch.path, false);
  scratch.location.push_back('/');
  if (!query.empty()) {
    scratch.location.push_back('?');
    append_encoded(scratch.location, query, true);
  }
  if (scratch.location.size() > kMaxLocation) return error_response(414, response);
  error_response(301, response);
  response.location = scratch.location;
}

void StaticSite::serve_directory(const RequestHead& head, std::int64_t now_ns,
                                 RequestScratch& scratch, Response& response) {
  for (const std::string& name : options_.index_files) {
    scratch.index.assign(scratch.path).append(name);
    std::error_code ec;
    std::shared_ptr<const CachedFile> index = cache_.open(scratch.index, now_ns, ec);
    if (index && !index->directory) {
      return serve_file(head, scratch.index, now_ns, scratch, std::move(index), response);
    }
    if (!index && ec.value() != ENOENT) return error_response(status_for_open_error(ec), response);
  }
  if (!options_.autoindex) return error_response(403, response);  // no index, no listings
  bool truncated = false;
  if (const std::error_code ec =
          cache_.list_directory(scratch.path, kMaxListing, scratch.entries, truncated)) {
    return error_response(status_for_open_error(ec), response);
  }
  render_listing(scratch.path, scratch.entries, truncated, scratch.listing);
  response.status = 200;
  response.content_type = kHtml;
  response.body = scratch.listing;
  response.length = scratch.listing.size();
}

void StaticSite::serve_file(const RequestHead& head, std::string_view path, std::int64_t now_ns,
                            RequestScratch& scratch, std::shared_ptr<const CachedFile> file,
                            Response& response) {
  response.content_type = file->content_type;  // the original's, for either variant
  if (options_.gzip_static) {
    scratch.variant.assign(path).append(".gz");
    std::error_code ec;  // (a missing variant is a cached negative entry: no open per request)
    std::shared_ptr<const CachedFile> gz = cache_.open(scratch.variant, now_ns, ec);
    if (gz && !gz->directory) {
      response.vary_encoding = true;
      if (accepts_gzip(head.accept_encoding)) {
        response.content_encoding = "gzip";
        file = std::move(gz);
      }
    }
  }
  response.validators = true;
  response.total_size = file->size;
  response.length = file->size;
  if (precondition_failed(head.if_match, head.if_unmodified_since, file->etag(),
                          file->last_modified_seconds)) {
    error_response(412, response);
    return;
  }
  if (not_modified(head.if_none_match, head.if_modified_since, file->etag(),
                   file->last_modified_seconds)) {
    response.status = 304;
    response.send_body = false;
    response.length = 0;
    response.file = std::move(file);
    return;
  }
  if (head.method == Method::kGet && !head.range.empty() &&
      range_applies(head.if_range, file->etag(), file->last_modified_seconds)) {
    ByteRanges ranges;
    switch (parse_byte_ranges(head.range, file->size, ranges)) {
      case RangeRequest::kSatisfiable:
        response.status = 206;
        if (ranges.count == 1) {
          response.content_range = true;
          response.range = ranges.items[0];
          response.offset = response.range.first;
          response.length = response.range.length();
        } else {
          response.parts = ranges;
          new_boundary(response.multipart);
          response.length = multipart_length(response.content_type, ranges, file->size);
        }
        break;
      case RangeRequest::kUnsatisfiable:
        error_response(416, response);
        response.content_range = true;
        response.validators = false;
        return;
      case RangeRequest::kNone:
        break;
    }
  }
  if (file->in_memory) {
    response.body = response.parts.count > 0
                        ? std::string_view(file->body)
                        : std::string_view(file->body).substr(response.offset, response.length);
  } else {
    response.body_fd = file->fd.get();
  }
  response.file = std::move(file);
}

}  // namespace zap::http
