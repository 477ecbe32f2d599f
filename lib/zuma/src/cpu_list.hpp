// Internal: the scanner behind CpuSet::parse, shared with the topology text parser.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "zap/zuma/parse_error.hpp"

namespace zap::zuma::detail {

// Parses a decimal number at text[pos...]; advances pos past its digits. Leading '+'/'-' and
// values above `max` are errors. Positions in errors are offset by `base`.
std::optional<ParseError> scan_number(std::string_view text, std::size_t& pos,
                                      unsigned long long max, std::size_t base,
                                      unsigned long long& out);

// Parses a CPU list ("0-3,8,10-11") and appends every CPU it names, in the order written (so
// "0-1,0-1" yields 0,1,0,1). The whole of `text` must be the list. Positions in errors are
// offset by `base`, the offset of `text` in the caller's larger text.
std::optional<ParseError> parse_cpu_sequence(std::string_view text, std::size_t base,
                                             std::vector<unsigned>& out);

}  // namespace zap::zuma::detail
