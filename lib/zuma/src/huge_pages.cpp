// huge_page_size() and allocate_huge(): explicit (hugetlb) huge pages with a fallback.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "memory_util.hpp"
#include "zap/zuma/error.hpp"
#include "zap/zuma/virtual_memory.hpp"

namespace zap::zuma {
namespace {

// Reads "Hugepagesize:    2048 kB" from /proc/meminfo without allocating; 0 if absent.
std::size_t read_huge_page_size() noexcept {
  const int fd = ::open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buffer[8192];
  std::size_t length = 0;
  while (length < sizeof(buffer)) {
    const ssize_t n = ::read(fd, buffer + length, sizeof(buffer) - length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    length += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const std::string_view text(buffer, length);
  constexpr std::string_view kKey = "\nHugepagesize:";
  std::size_t pos = text.find(kKey);
  if (pos == std::string_view::npos) return 0;
  pos += kKey.size();
  while (pos < text.size() && text[pos] == ' ') ++pos;
  std::size_t kib = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    kib = kib * 10 + static_cast<std::size_t>(text[pos] - '0');
    ++pos;
  }
  const std::size_t bytes = kib * 1024;
  return (bytes & (bytes - 1)) == 0 ? bytes : 0;  // a page size is a power of two
}

}  // namespace

std::size_t huge_page_size() noexcept {
  static const std::size_t size = read_huge_page_size();
  return size;
}

Result<HugeAllocation> allocate_huge(std::size_t size) noexcept {
  if (size == 0) return std::make_error_code(std::errc::invalid_argument);
  HugeAllocation allocation;
  const std::size_t huge = huge_page_size();
  if (huge == 0) {
    allocation.fallback_reason = make_error_code(Errc::kHugePagesUnavailable);
  } else {
    allocation.size = detail::round_up(size, huge);
    if (allocation.size == 0) return std::make_error_code(std::errc::not_enough_memory);
    void* mapped = mmap(nullptr, allocation.size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (mapped != MAP_FAILED) {
      allocation.ptr = mapped;
      allocation.explicit_huge = true;
      return allocation;
    }
    allocation.fallback_reason = detail::errno_code();
  }

  // Normal pages, huge-page aligned and advised for THP, so that the kernel may still back the
  // range with huge pages.
  const std::size_t alignment = huge != 0 ? huge : page_size();
  allocation.size = detail::round_up(size, alignment);
  if (allocation.size == 0) return std::make_error_code(std::errc::not_enough_memory);
  auto reserved = reserve(allocation.size, alignment);
  if (!reserved) return reserved.error();
  if (auto ec = commit(*reserved, allocation.size)) {
    release(*reserved, allocation.size);
    return ec;
  }
  advise_huge_pages(*reserved, allocation.size);  // best effort: THP may be off
  allocation.ptr = *reserved;
  return allocation;
}

}  // namespace zap::zuma
