// FileCache: a worker's view of the document root -- files opened beneath the root, their
// metadata and validators, and the whole content of small files -- kept between requests and
// revalidated against the file system at most every `validity_ms`.
//
//   FileCache cache(root.get(), mime_types, options);      // one per worker: no locking
//   std::error_code ec;
//   std::shared_ptr<const CachedFile> file = cache.open("/docs/index.html", now_ns, ec);
//   if (!file) ... ec: ENOENT/ENOTDIR (404), EACCES/EXDEV/ELOOP (403), ENAMETOOLONG (414) ...
//   if (file->directory) ...                                // redirect or index
//   file->in_memory ? send(file->body ...) : sendfile(socket, file->fd.get(), ...)
//
// Why: a static file server spends more on open/fstat/close than on moving a small file, and
// nginx's answer (open_file_cache) is the same: keep what was opened, and trust it for a while.
// With validity_ms = 0 every request revalidates with one stat() of the path (still cheaper than
// open + fstat + read + close); a changed file (other inode, size or mtime) is reopened. That a
// path does not exist is cached the same way (and checked again the same way).
//
// Confinement: paths are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative
// to the root, so no symlink or ".." can reach outside it (EXDEV). On a kernel without openat2
// (< 5.6) or under a seccomp filter refusing it, each path component is opened with O_NOFOLLOW
// instead, so every symlink is refused (ELOOP). With `follow_symlinks` plain openat is used, and
// symlinks may point anywhere, as in nginx's default. Paths given here are already normalized
// (see request_target.hpp), so ".." never appears in them.
//
// Entries are shared_ptr: a response in flight keeps its file (fd, content) alive even if the
// entry is evicted or replaced meanwhile. Small files are read once into memory; larger ones
// keep their descriptor open for splicing. Bounded by entry count and by bytes held in memory;
// and out of descriptors (EMFILE), an open first closes the idle ones the cache keeps.
//
// The root: a descriptor opened once, which keeps serving the directory it named even if the
// path is moved or deleted -- unless follow_root(path) is called: then the path is looked up
// again (at most every validity_ms), and when it names another directory (a deploy that swaps a
// "current" symlink, a root deleted and created again) the cache opens that one and forgets
// every entry, as nginx resolves its root on each request.
//
// Thread-safety: none; each worker owns its cache (connections never migrate).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <zap/zio/fd.hpp>

#include "http_date.hpp"
#include "mime_types.hpp"
#include "validators.hpp"

namespace zap::http {

struct CachedFile {
  // A negative entry: the path did not exist (ENOENT, ENOTDIR) when last looked at. Kept like the
  // others, so that a flood of requests for a missing file (or for the .gz variant a file does
  // not have) costs no open() each.
  int missing = 0;
  bool directory = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::uint64_t size = 0;
  timespec mtime{};
  // Last-Modified in seconds: the modification time, or the load time if that is earlier (a
  // file dated in the future). What dates from the client (If-Modified-Since and the others)
  // are compared with, since it is the date the client was given.
  std::int64_t last_modified_seconds = 0;
  std::string_view content_type;  // from the MimeTypes table
  std::string_view etag() const { return {etag_text, etag_size}; }
  std::string_view last_modified() const { return {last_modified_text, kHttpDateSize}; }
  // The whole content when the file is small (size <= max_file_in_memory), else empty.
  std::string body;
  bool in_memory = false;
  zio::UniqueFd fd;  // open (read-only) when the content is not in memory

  char etag_text[kMaxEtagSize] = {};
  std::size_t etag_size = 0;
  char last_modified_text[kHttpDateSize] = {};
};

// One entry of a directory listing.
struct DirectoryEntry {
  std::string name;
  bool directory = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch; 0 if unknown
};

class FileCache {
 public:
  struct Options {
    std::size_t max_entries = 4096;
    std::size_t max_bytes = 64u << 20;            // content held in memory, all entries
    std::size_t max_file_in_memory = 256u << 10;  // larger files are sent from their fd
    std::int64_t validity_ms = 1000;              // 0: revalidate on every request
    bool follow_symlinks = false;                 // true: plain openat, symlinks go anywhere
  };

  // `root_fd` (an O_PATH or O_DIRECTORY descriptor) is borrowed and must outlive the cache.
  FileCache(int root_fd, const MimeTypes& types, Options options);
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // Looks `root_path` up again every validity_ms (see above). Without it, the root descriptor is
  // the one given at construction for good.
  void follow_root(std::string root_path);

  // The file or directory at `path` ("/" or "/a/b", normalized; a trailing slash is allowed and
  // requires a directory), or null with `ec` set. `now_ns`: CLOCK_MONOTONIC, for revalidation.
  std::shared_ptr<const CachedFile> open(std::string_view path, std::int64_t now_ns,
                                         std::error_code& ec);

  // The entries of the directory at `path` (normalized, ending in "/"), opened under the same
  // confinement rules as files, without those whose name starts with '.', sorted directories
  // first, then by name; at most `limit` (`truncated` says if there were more). Not cached.
  std::error_code list_directory(std::string_view path, std::size_t limit,
                                 std::vector<DirectoryEntry>& out, bool& truncated) const;

  // How paths are kept inside the root: false with follow_symlinks; otherwise openat2 (true in
  // uses_openat2()) or, where it is missing or refused, no symlinks at all.
  bool confined() const { return !options_.follow_symlinks; }
  bool uses_openat2() const { return use_openat2_; }
  std::size_t entries() const { return index_.size(); }
  std::size_t bytes_in_memory() const { return bytes_; }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string path;
    std::shared_ptr<const CachedFile> file;
    std::int64_t checked_ns = 0;
  };
  using Lru = std::list<Entry>;  // most recently used first
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::shared_ptr<CachedFile> load(std::string_view path, std::error_code& ec);
  int open_beneath(const char* relative, int flags) const;
  bool still_current(const Entry& entry, std::error_code& ec) const;
  void erase(Lru::iterator it);
  // Out of descriptors: closes the least recently used descriptor the cache holds for nothing
  // (no response is sending its file), so that a request is answered rather than refused for a
  // descriptor kept only in case. False if there is none.
  bool give_back_a_descriptor();
  void insert(std::string_view path, std::shared_ptr<const CachedFile> file, std::int64_t now_ns);

  // follow_root(): whether root_path_ now names another directory than root_fd_; if so, that one
  // becomes the root and the entries go.
  void recheck_root(std::int64_t now_ns);

  int root_fd_;
  std::string root_path_;   // follow_root()'s; empty: the root is fixed
  zio::UniqueFd own_root_;  // a root opened by recheck_root() (root_fd_ then names it)
  struct {
    dev_t device = 0;
    ino_t inode = 0;
  } root_id_;  // the directory root_fd_ names (follow_root() only)
  std::int64_t root_checked_ns_ = 0;
  const MimeTypes& types_;
  Options options_;
  bool use_openat2_;  // decided at construction, never changed
  Lru lru_;
  // Keys view the Entry's own path string (list nodes never move).
  std::unordered_map<std::string_view, Lru::iterator, Hash, std::equal_to<>> index_;
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace zap::http
