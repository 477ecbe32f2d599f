// A scratch document root for the file cache and static site tests: files written, changed,
// removed and linked under a fresh directory, which is removed afterwards.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <zap/zio/fd.hpp>

namespace zap::http {

class SiteDir {
 public:
  SiteDir() {
    char templ[] = "/tmp/zap-http-test-XXXXXX";
    root_ = ::mkdtemp(templ);
    fd_ = zio::UniqueFd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  ~SiteDir() { std::filesystem::remove_all(root_); }
  SiteDir(const SiteDir&) = delete;
  SiteDir& operator=(const SiteDir&) = delete;

  int fd() const { return fd_.get(); }
  std::string path(const std::string& relative) const { return root_ + "/" + relative; }

  void write(const std::string& relative, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(path(relative)).parent_path());
    // Write a new file and rename it over the old one, as deploy tools do.
    const std::string temp = path(relative) + ".tmp";
    std::ofstream(temp, std::ios::binary) << content;
    std::filesystem::rename(temp, path(relative));
  }
  void mkdir(const std::string& relative) const {
    std::filesystem::create_directories(path(relative));
  }
  void remove(const std::string& relative) const { std::filesystem::remove(path(relative)); }
  void symlink(const std::string& target, const std::string& relative) const {
    std::filesystem::create_symlink(target, path(relative));
  }
  // Sets the modification time (seconds since the epoch).
  void set_mtime(const std::string& relative, std::time_t seconds) const {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ::utimensat(AT_FDCWD, path(relative).c_str(), times, 0);
  }

 private:
  std::string root_;
  zio::UniqueFd fd_;
};

}  // namespace zap::http
