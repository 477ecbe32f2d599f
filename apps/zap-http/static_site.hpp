// StaticSite: decides zap-http's answer to a parsed request -- the file, the status and the
// headers -- the way nginx's static module does, without touching the socket.
//
//   StaticSite site(cache, {.index_files = {"index.html"}});
//   RequestScratch scratch;                          // per connection, reused by every request
//   Response response;
//   site.respond(head, now_ns, scratch, response);
//
// Rules:
//   GET/HEAD only (OPTIONS: 204 with Allow; others: 405 with Allow).
//   The target is decoded and normalized (request_target.hpp); one that is malformed or climbs
//   above the root is 400.
//   A directory asked for without its trailing slash is redirected (301) to it; with the slash,
//   the first existing index file is served, else a listing (autoindex) or 403.
//   Missing: 404. Not readable, outside the root, not a regular file: 403. Out of descriptors or
//   memory: 503 with Retry-After (the condition is the server's and passes).
//   Conditional GET/HEAD: If-None-Match / If-Modified-Since -> 304. Range (GET only, honouring
//   If-Range): one range -> 206, several -> 206 multipart/byteranges (up to 16, ascending and
//   apart; else ignored: 200 with everything), all past the end -> 416.
//   With gzip_static, a file's precompressed "<file>.gz" is served to clients that accept gzip.
//
// Thread-safety: one per worker, like its FileCache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "file_cache.hpp"
#include "request_head.hpp"
#include "response.hpp"

namespace zap::http {

struct SiteOptions {
  std::vector<std::string> index_files = {"index.html"};
  // Serve "<file>.gz", when it exists and the client accepts gzip, in place of <file> (nginx's
  // gzip_static): Content-Encoding: gzip, the original's Content-Type, its own validators, and
  // "Vary: Accept-Encoding" on both variants.
  bool gzip_static = false;
  // A directory without an index file gets an HTML listing instead of a 403 (nginx's autoindex;
  // names starting with '.' are not listed).
  bool autoindex = false;
};

// True if an Accept-Encoding field value accepts gzip ("gzip", "x-gzip" or "*", not at q=0).
bool accepts_gzip(const FieldLines& accept_encoding);

// Per-connection strings the responses point into; they grow to the longest request seen and
// are then reused without allocating.
struct RequestScratch {
  std::string path;      // the decoded, normalized path
  std::string index;     // path + index file name
  std::string location;  // a redirect target
  std::string variant;   // path + ".gz"
  std::string listing;   // an autoindex page
  std::vector<DirectoryEntry> entries;
};

class StaticSite {
 public:
  StaticSite(FileCache& cache, SiteOptions options) : cache_(cache), options_(std::move(options)) {}

  void respond(const RequestHead& head, std::int64_t now_ns, RequestScratch& scratch,
               Response& response);

 private:
  void serve_file(const RequestHead& head, std::string_view path, std::int64_t now_ns,
                  RequestScratch& scratch, std::shared_ptr<const CachedFile> file,
                  Response& response);
  void serve_directory(const RequestHead& head, std::int64_t now_ns, RequestScratch& scratch,
                       Response& response);

  FileCache& cache_;
  SiteOptions options_;
};

// `status` with its error page as body (and Allow / Retry-After where the status calls for it).
void error_response(int status, Response& response);

}  // namespace zap::http
