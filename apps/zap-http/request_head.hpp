// RequestHead: an HTTP/1.x request head (RFC 9112) as zap-http reads it -- the request line and
// the header fields a static file server acts on -- parsed in place, without allocation.
//
//   RequestHead head;
//   ParseOutcome outcome = parse_request_head(received, limits, head);
//   switch (outcome.state) {
//     case ParseOutcome::kIncomplete: /* receive more, parse again from the start */ break;
//     case ParseOutcome::kInvalid:    /* answer outcome.status, close */ break;
//     case ParseOutcome::kComplete:   /* head.target ...; the body starts at outcome.head_size */
//   }
//
// The views in RequestHead point into `received` and live as long as those bytes do.
//
// Strict where leniency lets requests be smuggled or misread: a field name must be a token with
// the colon right after it (no whitespace), obs-fold and control characters are refused, an
// HTTP/1.1 request needs exactly one Host, Content-Length must be digits (repeats must agree).
// Lenient where it costs nothing: bare LF line ends, empty lines before the request line, and
// unknown fields (skipped). A request whose first line is already wrong is refused before the
// rest of its head arrives, so garbage (a TLS hello on the plain port) is answered at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "field_lines.hpp"

namespace zap::http {

enum class Method : std::uint8_t { kGet, kHead, kOptions, kOther };

struct RequestHead {
  Method method = Method::kGet;
  std::string_view request_line;  // "GET /a HTTP/1.1", without its line end (for logs)
  std::string_view method_name;
  std::string_view target;  // as sent: origin-form, absolute-form or "*"
  int minor_version = 1;    // HTTP/1.<minor_version>; only 0 and 1 are accepted
  // What the client asked for: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
  // "Connection: keep-alive".
  bool keep_alive = true;
  // Host, or an absolute-form target's authority, which wins (RFC 9112 3.2.2); checked to be
  // host[:port] (else 400). Empty when HTTP/1.0 sent none.
  std::string_view host;
  std::uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool has_content_length = false;
  // Transfer-Encoding's last line; "chunked" ending it (the final coding) is the only framing a
  // recipient must know (RFC 9112 6.1).
  std::string_view transfer_encoding;
  // List fields keep every line they came on (a client or proxy may split a list).
  FieldLines if_match;
  std::string_view if_unmodified_since;
  FieldLines if_none_match;
  std::string_view if_modified_since;
  std::string_view range;
  std::string_view if_range;
  FieldLines accept_encoding;
  std::string_view user_agent;
  std::string_view referer;
};

struct ParseLimits {
  std::size_t max_head = 8192;   // a longer head: 431 (or 414 while still in the request line)
  std::size_t max_fields = 100;  // more header fields: 431
};

struct ParseOutcome {
  enum State { kIncomplete, kComplete, kInvalid };
  State state = kIncomplete;
  std::size_t head_size = 0;  // kComplete: bytes through the blank line that ends the head
  int status = 0;             // kInvalid: 400, 414, 431 or 505
  const char* reason = "";    // kInvalid: what was wrong, for the log
};

ParseOutcome parse_request_head(std::string_view data, const ParseLimits& limits,
                                RequestHead& head);

}  // namespace zap::http
