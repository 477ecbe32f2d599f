// Fuzz target for zap-http's request-facing parsers: whatever bytes a client sends must give a
// well-formed outcome -- never a crash, an out-of-bounds view, or a path that climbs above the
// root. The input is one request head; its parts also feed the target, range, date and validator
// parsers. The same bytes, as what opens a connection, feed the PROXY protocol parser and the TLS
// ClientHello server-name reader (and the name it finds, the server-name table). Built two ways:
//   scripts/fuzz.sh [seconds]        libFuzzer + ASan + UBSan (clang), mutating from the corpus
//   ctest -R http_request_fuzz       every file of tests/http/fuzz_corpus replayed (any build)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "byte_range.hpp"
#include "http_date.hpp"
#include "proxy_protocol.hpp"
#include "request_head.hpp"
#include "request_target.hpp"
#include "server_names.hpp"
#include "tls_client_hello.hpp"
#include "validators.hpp"

namespace {

using namespace zap::http;

[[noreturn]] void violated() { std::abort(); }

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_target(std::string_view target) {
  std::string path;
  std::string_view query;
  if (decode_target(target, path, query) != TargetStatus::kOk) return;
  if (path.empty() || path.front() != '/') violated();
  if (path.find('\0') != std::string::npos) violated();
  // Normalized: no "." or ".." segment, no empty segment (but a trailing slash).
  for (std::size_t start = 1; start <= path.size();) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment(path.data() + start, end - start);
    if (segment == "." || segment == "..") violated();
    if (segment.empty() && end != path.size()) violated();
    start = end + 1;
  }
}

void check_fields(const RequestHead& head) {
  ByteRanges ranges;
  for (const std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000}}) {
    if (parse_byte_ranges(head.range, size, ranges) == RangeRequest::kSatisfiable) {
      if (ranges.count == 0 || ranges.count > kMaxRanges) violated();
      for (std::size_t i = 0; i < ranges.count; ++i) {
        const ByteRange& range = ranges.items[i];
        if (range.first > range.last || range.last >= size) violated();
        if (i > 0 && range.first <= ranges.items[i - 1].last) violated();  // ascending, apart
      }
    }
  }
  if (const auto t = parse_http_date(head.if_modified_since)) {
    char text[kHttpDateSize];
    format_http_date(*t, text);  // any parsed date formats (the round trip is a unit test)
  }
  char etag[kMaxEtagSize];
  const std::string_view tag = format_etag({784111777, 5}, 42, etag);
  (void)not_modified(head.if_none_match, head.if_modified_since, tag, 784111777);
  (void)range_applies(head.if_range, tag, 784111777);
}

// A header either needs more bytes (and then fits in the buffer that waits for it), is refused,
// or is complete within the input; its addresses are a pair of one family, and write back as a
// header that parses to the same pair.
void check_proxy_header(std::string_view input) {
  using zap::app::ProxyHeader;
  const ProxyHeader h = zap::app::parse_proxy_header(input);
  switch (h.state) {
    case ProxyHeader::kIncomplete:
      if (input.size() >= zap::app::kMaxParsedProxyHeader) violated();
      break;
    case ProxyHeader::kInvalid:
      if (h.reason == nullptr || *h.reason == '\0') violated();
      break;
    case ProxyHeader::kComplete: {
      if (h.size == 0 || h.size > input.size() || h.size > zap::app::kMaxParsedProxyHeader) {
        violated();
      }
      if (h.source.empty()) {
        if (!h.destination.empty()) violated();
        break;
      }
      if (h.source.family() != h.destination.family()) violated();
      if (h.source.family() != AF_INET && h.source.family() != AF_INET6) violated();
      char out[zap::app::kMaxProxyHeader];
      const std::size_t n = zap::app::write_proxy_header(h.version, h.source, h.destination, out);
      const ProxyHeader again = zap::app::parse_proxy_header({out, n});
      if (again.state != ProxyHeader::kComplete || again.size != n) violated();
      // (An IPv4-mapped pair comes back as IPv4, by design.)
      if (again.source.family() == h.source.family() &&
          (!(again.source == h.source) || !(again.destination == h.destination))) {
        violated();
      }
      break;
    }
  }
}

// A ClientHello either needs more bytes (more than it has, and no more than one record), is
// refused, or names a valid host name that lies within the input.
void check_client_hello(std::string_view input) {
  using zap::app::ClientHelloSni;
  const ClientHelloSni sni = zap::app::find_client_hello_sni(input);
  switch (sni.state) {
    case ClientHelloSni::kNeedMore:
      if (sni.need <= input.size() || sni.need > zap::app::kMaxClientHelloRecord) violated();
      break;
    case ClientHelloSni::kNone:
      break;
    case ClientHelloSni::kFound: {
      if (sni.name.empty() || sni.name.size() > 253 || !inside(sni.name, input)) violated();
      zap::app::ServerNames names;
      names.add("*.test", 1);
      names.add("a.test", 2);
      if (names.find(sni.name, 0) > 2) violated();
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::size_t max_head : {std::size_t{64}, std::size_t{8192}}) {
    RequestHead head;
    const ParseOutcome outcome = parse_request_head(input, {max_head, 100}, head);
    switch (outcome.state) {
      case ParseOutcome::kIncomplete:
        if (input.size() >= max_head) violated();  // a full buffer must be decided
        break;
      case ParseOutcome::kInvalid:
        if (outcome.status < 400 || outcome.status > 505) violated();
        break;
      case ParseOutcome::kComplete:
        if (outcome.head_size == 0 || outcome.head_size > input.size()) violated();
        if (outcome.head_size > max_head) violated();
        for (const std::string_view part :
             {head.request_line, head.method_name, head.target, head.host, head.if_modified_since,
              head.range, head.if_range, head.user_agent, head.referer}) {
          if (!inside(part, input.substr(0, outcome.head_size))) violated();
        }
        for (const FieldLines* list :
             {&head.if_match, &head.if_none_match, &head.accept_encoding}) {
          list->any_item([&](std::string_view item) {
            if (!inside(item, input.substr(0, outcome.head_size))) violated();
            return false;
          });
        }
        check_target(head.target);
        check_fields(head);
        break;
    }
  }
  check_target(input.substr(0, 512));  // the target decoder on raw bytes too
  check_proxy_header(input);
  check_client_hello(input);
  return 0;
}
