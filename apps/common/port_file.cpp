#include "port_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
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
  // A FIFO or a device at the path (or behind a link there: /dev/stdout) is written through, as
  // asked; O_NONBLOCK makes a FIFO nobody reads an error (ENXIO), not a daemon stuck here.
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && !S_ISREG(status.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "port file " + path);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const int error = write_all(fd, text);
    ::close(fd);
    if (error != 0) throw std::system_error(error, std::system_category(), "port file " + path);
    return;
  }
  // A regular file (or none): written whole to a temporary, then renamed, so that a reader never
  // sees half of it -- in the folder of a symlink's target, so that the link stays a link.
  std::filesystem::path target = path;
  for (int hops = 0; ::lstat(target.c_str(), &status) == 0 && S_ISLNK(status.st_mode); ++hops) {
    std::error_code ec;
    const std::filesystem::path next = std::filesystem::read_symlink(target, ec);
    if (ec || hops == 40) {  // (40: the kernel's own limit, ELOOP)
      throw std::system_error(
          ec ? ec : std::make_error_code(std::errc::too_many_symbolic_link_levels),
          "port file " + path);
    }
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  const std::string temp = target.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "port file " + temp);
  const int error = write_all(fd, text);
  ::close(fd);
  if (error != 0) {
    ::unlink(temp.c_str());
    throw std::system_error(error, std::system_category(), "port file " + temp);
  }
  if (std::rename(temp.c_str(), target.c_str()) != 0) {
    const int rename_error = errno;
    ::unlink(temp.c_str());
    throw std::system_error(rename_error, std::system_category(), "port file " + path);
  }
}

}  // namespace zap::app
