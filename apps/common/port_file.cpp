#include "port_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace zap::app {

namespace {

// 0, or the errno of the write that failed.
int write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

void write_port_file(const std::string& path, const std::vector<std::string>& addresses) {
  std::string text;
  for (const auto& address : addresses) text += address + "\n";
  // Something other than a regular file at the path (a symlink, /dev/stdout, a FIFO) is written
  // through, as the user asked: renaming over it would replace the link or the device node.
  struct stat status {};
  if (::lstat(path.c_str(), &status) == 0 && !S_ISREG(status.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "port file " + path);
    const int error = write_all(fd, text);
    ::close(fd);
    if (error != 0) throw std::system_error(error, std::system_category(), "port file " + path);
    return;
  }
  // A regular file (or none): written whole to a temporary, then renamed, so that a reader never
  // sees half of it.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "port file " + temp);
  const int error = write_all(fd, text);
  ::close(fd);
  if (error != 0) {
    ::unlink(temp.c_str());
    throw std::system_error(error, std::system_category(), "port file " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_error = errno;
    ::unlink(temp.c_str());
    throw std::system_error(rename_error, std::system_category(), "port file " + path);
  }
}

}  // namespace zap::app
