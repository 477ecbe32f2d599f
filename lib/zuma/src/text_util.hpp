// Internal: small-file reading and number parsing for sysfs/procfs and the topology text format.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "zap/zuma/result.hpp"

namespace zap::zuma::detail {

// Reads a whole (small, virtual) file. Errors: the errno of open/read (system_category).
Result<std::string> read_text_file(const std::filesystem::path& path);

// Strips ASCII whitespace at both ends.
std::string_view trim(std::string_view text) noexcept;

// A non-negative decimal integer, whole text (after trim); nullopt otherwise.
std::optional<unsigned long long> parse_unsigned(std::string_view text) noexcept;

// "32K", "8M", "1G", "4096" (bytes; K/M/G are powers of 1024, upper or lower case).
std::optional<std::size_t> parse_size(std::string_view text) noexcept;

}  // namespace zap::zuma::detail
