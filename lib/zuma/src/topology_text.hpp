// Internal: the second text format of Topology::parse, one line per NUMA node (see topology.hpp).
#pragma once

#include <string_view>

#include "zap/zuma/parse_error.hpp"
#include "zap/zuma/result.hpp"
#include "zap/zuma/topology.hpp"

namespace zap::zuma::detail {

// True if the first word of `text` (after blanks and comments) is "node" standing alone, as in
// "node 0: 0-1". "nodes=2" is not: it starts the key=value format.
bool is_node_list(std::string_view text) noexcept;

// Parses "node 0: 0-1 smt 4-5 on 0-3" lines. Error messages start with "line N: ".
Result<Topology, ParseError> parse_node_list(std::string_view text);

}  // namespace zap::zuma::detail
