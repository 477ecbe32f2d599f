#include "file_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include <spdlog/spdlog.h>

namespace zap::http {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;  // NONBLOCK: a FIFO
                                                                          // must not hang us
constexpr int kReadAttempts = 3;  // a file rewritten while we read it is read again

std::error_code last_error() { return {errno, std::system_category()}; }

bool same_version(const struct stat& st, const CachedFile& file) {
  return st.st_dev == file.device && st.st_ino == file.inode &&
         static_cast<std::uint64_t>(st.st_size) == file.size &&
         st.st_mtim.tv_sec == file.mtime.tv_sec && st.st_mtim.tv_nsec == file.mtime.tv_nsec &&
         S_ISDIR(st.st_mode) == file.directory;
}

// The path relative to the root as openat wants it: "a/b" for "/a/b", "." for "/".
const char* relative_c_str(const std::string& path) {
  return path.size() <= 1 ? "." : path.c_str() + 1;
}

// Reads all `size` bytes at offset 0; false (errno set) on error or if the file ended early.
bool read_whole(int fd, std::string& out, std::uint64_t size) {
  out.resize(size);
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = ESTALE;  // shrank under us
      return false;
    }
    done += static_cast<std::uint64_t>(n);
  }
  return true;
}

// Without openat2: each component opened on its own, none through a symlink (ELOOP) -- stricter
// than RESOLVE_BENEATH, which allows links that stay inside the root, but never out of it.
// ".." cannot occur (paths are normalized) and is refused anyway (EXDEV, as openat2 says).
int open_refusing_symlinks(int root_fd, const char* relative, int flags) {
  std::string_view rest(relative);
  zio::UniqueFd dir;  // the directory reached so far (root_fd before the first component)
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string name(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    const int at = dir ? dir.get() : root_fd;
    if (name == "..") {
      errno = EXDEV;
      return -1;
    }
    if (name.empty() || name == ".") {
      if (rest.empty()) return ::openat(at, ".", flags | O_NOFOLLOW);
      continue;
    }
    if (rest.empty()) return ::openat(at, name.c_str(), flags | O_NOFOLLOW);
    // O_PATH: searching needs no read permission. O_NOFOLLOW with O_PATH opens a link itself,
    // which fstat tells.
    zio::UniqueFd next(::openat(at, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    struct stat status {};
    if (::fstat(next.get(), &status) != 0) return -1;
    if (!S_ISDIR(status.st_mode)) {
      errno = S_ISLNK(status.st_mode) ? ELOOP : ENOTDIR;
      return -1;
    }
    dir = std::move(next);
  }
}

}  // namespace

FileCache::FileCache(int root_fd, const MimeTypes& types, Options options)
    : root_fd_(root_fd), types_(types), options_(options), use_openat2_(false) {
  if (options_.follow_symlinks) return;
  // Decided once, here: an error of openat2 for some path later (EPERM from a security module,
  // a FUSE server) must not quietly turn confinement off for good.
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_DIRECTORY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const int probe = static_cast<int>(::syscall(SYS_openat2, root_fd_, ".", &how, sizeof how));
  if (probe >= 0) ::close(probe);
  use_openat2_ = probe >= 0 || (errno != ENOSYS && errno != EPERM);
}

FileCache::~FileCache() = default;

void FileCache::follow_root(std::string root_path) {
  root_path_ = std::move(root_path);
  struct stat held {};
  if (::fstat(root_fd_, &held) == 0) root_id_ = {held.st_dev, held.st_ino};
}

void FileCache::recheck_root(std::int64_t now_ns) {
  root_checked_ns_ = now_ns;
  struct stat named {};
  // A path that is missing for a moment (a swap done as delete-then-create) keeps the old root.
  // (One stat per check: the served root's identity is remembered, not asked again.)
  if (::stat(root_path_.c_str(), &named) != 0) return;
  if (named.st_dev == root_id_.device && named.st_ino == root_id_.inode) return;
  zio::UniqueFd fresh(::open(root_path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fresh) return;
  // Entries hold their own descriptors (and responses in flight their entries): dropping them
  // and the old root here cuts nothing that is being sent.
  lru_.clear();
  index_.clear();
  bytes_ = 0;
  own_root_ = std::move(fresh);
  root_fd_ = own_root_.get();
  root_id_ = {named.st_dev, named.st_ino};
  spdlog::info("http: the root {} now names another directory; serving that one", root_path_);
}

std::shared_ptr<const CachedFile> FileCache::open(std::string_view path, std::int64_t now_ns,
                                                  std::error_code& ec) {
  ec.clear();
  if (!root_path_.empty() && now_ns - root_checked_ns_ >= options_.validity_ms * 1'000'000) {
    recheck_root(now_ns);
  }
  if (const auto found = index_.find(path); found != index_.end()) {
    const Lru::iterator it = found->second;
    const bool trusted = now_ns - it->checked_ns < options_.validity_ms * 1'000'000;
    if (trusted || still_current(*it, ec)) {
      ++hits_;
      if (!trusted) it->checked_ns = now_ns;
      lru_.splice(lru_.begin(), lru_, it);
      if (it->file->missing != 0) {
        ec = std::error_code(it->file->missing, std::system_category());
        return nullptr;
      }
      return it->file;
    }
    erase(it);
    if (ec) return nullptr;  // gone (or unreadable) now
  }
  ++misses_;
  std::shared_ptr<CachedFile> file = load(path, ec);
  if (!file) {
    if (ec.value() == ENOENT || ec.value() == ENOTDIR) {
      auto absent = std::make_shared<CachedFile>();
      absent->missing = ec.value();
      insert(path, std::move(absent), now_ns);
    }
    return nullptr;
  }
  insert(path, file, now_ns);
  return file;
}

bool FileCache::still_current(const Entry& entry, std::error_code& ec) const {
  // stat() follows symlinks like the open did; if the path now leads elsewhere (even through a
  // new symlink out of the root), the inode differs and load() reopens it under the same rules.
  struct stat st {};
  if (::fstatat(root_fd_, relative_c_str(entry.path), &st, 0) != 0) {
    ec = last_error();
    if (entry.file->missing != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      ec.clear();
      return true;  // still missing: the negative entry stands
    }
    return false;
  }
  return entry.file->missing == 0 && same_version(st, *entry.file);
}

std::shared_ptr<CachedFile> FileCache::load(std::string_view path, std::error_code& ec) {
  const std::string key(path);
  const char* relative = relative_c_str(key);
  int fd = open_beneath(relative, kOpenFlags);
  while (fd < 0) {
    const int error = errno;
    if ((error != EMFILE && error != ENFILE) || !give_back_a_descriptor()) {
      ec = std::error_code(error, std::system_category());
      return nullptr;
    }
    fd = open_beneath(relative, kOpenFlags);
  }
  zio::UniqueFd owned(fd);
  auto file = std::make_shared<CachedFile>();
  for (int attempt = 0;; ++attempt) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ec = last_error();
      return nullptr;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      ec = std::make_error_code(std::errc::permission_denied);  // FIFOs, devices, sockets
      return nullptr;
    }
    file->directory = S_ISDIR(st.st_mode);
    file->device = st.st_dev;
    file->inode = st.st_ino;
    file->size = file->directory ? 0 : static_cast<std::uint64_t>(st.st_size);
    file->mtime = st.st_mtim;
    if (file->directory || file->size > options_.max_file_in_memory) break;
    if (!read_whole(fd, file->body, file->size)) {
      if (errno != ESTALE || attempt + 1 == kReadAttempts) {
        ec = last_error();
        return nullptr;
      }
      continue;
    }
    struct stat after {};
    if (::fstat(fd, &after) == 0 && same_version(after, *file)) {
      file->in_memory = true;
      break;
    }
    if (attempt + 1 == kReadAttempts) {  // rewritten on every try: let the client try later
      ec = std::make_error_code(std::errc::resource_unavailable_try_again);
      return nullptr;
    }
  }
  if (!file->directory) {
    file->content_type = types_.lookup(path);
    file->etag_size = format_etag(file->mtime, file->size, file->etag_text).size();
    // Never later than the response's Date (RFC 9110 8.8.2.1): a file dated in the future
    // would otherwise keep a client that revalidates by date on its copy after a fix.
    file->last_modified_seconds = std::min<std::int64_t>(file->mtime.tv_sec, ::time(nullptr));
    format_http_date(file->last_modified_seconds, file->last_modified_text);
    if (!file->in_memory) file->fd = std::move(owned);
  }
  return file;
}

int FileCache::open_beneath(const char* relative, int flags) const {
  if (options_.follow_symlinks) return ::openat(root_fd_, relative, flags);
  if (!use_openat2_) return open_refusing_symlinks(root_fd_, relative, flags);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd_, relative, &how, sizeof how));
}

std::error_code FileCache::list_directory(std::string_view path, std::size_t limit,
                                          std::vector<DirectoryEntry>& out, bool& truncated) const {
  out.clear();
  truncated = false;
  const std::string key(path);
  const int fd = open_beneath(relative_c_str(key), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return last_error();
  DIR* dir = ::fdopendir(fd);  // owns fd from here
  if (dir == nullptr) {
    const std::error_code ec = last_error();
    ::close(fd);
    return ec;
  }
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;  // ".", "..", and hidden files (as nginx's autoindex)
    if (out.size() == limit) {
      truncated = true;
      break;
    }
    DirectoryEntry entry;
    entry.name = e->d_name;
    struct stat st {};
    // Relative to the directory itself: a symlink is shown as what it points to, if it can be
    // stat()ed; its target is never opened from here.
    if (::fstatat(::dirfd(dir), e->d_name, &st, 0) == 0) {
      entry.directory = S_ISDIR(st.st_mode);
      entry.size = static_cast<std::uint64_t>(st.st_size);
      entry.mtime = st.st_mtim.tv_sec;
    }
    out.push_back(std::move(entry));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(), [](const DirectoryEntry& a, const DirectoryEntry& b) {
    return a.directory != b.directory ? a.directory : a.name < b.name;
  });
  return {};
}

void FileCache::insert(std::string_view path, std::shared_ptr<const CachedFile> file,
                       std::int64_t now_ns) {
  const std::size_t size = file->body.size();
  if (size > options_.max_bytes) return;  // serve it, do not keep it
  while (!lru_.empty() &&
         (index_.size() >= options_.max_entries || bytes_ + size > options_.max_bytes)) {
    erase(std::prev(lru_.end()));
  }
  if (options_.max_entries == 0) return;
  lru_.push_front(Entry{std::string(path), std::move(file), now_ns});
  index_.emplace(lru_.front().path, lru_.begin());
  bytes_ += size;
}

bool FileCache::give_back_a_descriptor() {
  for (auto it = lru_.end(); it != lru_.begin();) {
    --it;
    // use_count 1: only the cache holds it, so erasing it closes the descriptor now.
    if (it->file->fd && it->file.use_count() == 1) {
      erase(it);
      return true;
    }
  }
  return false;
}

void FileCache::erase(Lru::iterator it) {
  bytes_ -= it->file->body.size();
  index_.erase(it->path);
  lru_.erase(it);
}

}  // namespace zap::http
