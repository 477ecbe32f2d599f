#include "request_head.hpp"

#include <algorithm>
#include <cstring>

#include "ascii.hpp"

namespace zap::http {

namespace {

ParseOutcome invalid(int status, const char* reason) {
  return {ParseOutcome::kInvalid, 0, status, reason};
}

// One line of the head: [begin, end) without its line end; `next` is where the next line starts.
struct Line {
  std::string_view text;
  std::size_t next = 0;
  bool complete = false;
  bool bad_cr = false;  // a CR anywhere but right before the LF
};

Line line_at(std::string_view data, std::size_t begin) {
  Line line;
  const void* lf = std::memchr(data.data() + begin, '\n', data.size() - begin);
  if (lf == nullptr) {
    line.text = data.substr(begin);
    return line;
  }
  const auto end = static_cast<std::size_t>(static_cast<const char*>(lf) - data.data());
  line.complete = true;
  line.next = end + 1;
  line.text = data.substr(begin, end - begin);
  if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
  line.bad_cr = line.text.find('\r') != std::string_view::npos;
  return line;
}

Method method_of(std::string_view name) {
  if (name == "GET") return Method::kGet;
  if (name == "HEAD") return Method::kHead;
  if (name == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

bool is_target_char(unsigned char c) { return (c > 0x20 && c < 0x7f) || c >= 0x80; }

// The start of a request line that has not ended yet: refuse it now if what is there can never
// become a method followed by a space.
bool plausible_prefix(std::string_view partial) {
  for (const char c : partial) {
    if (c == ' ') return true;
    if (!is_token_char(c)) return false;
  }
  return true;
}

ParseOutcome parse_request_line(std::string_view line, RequestHead& head) {
  head.request_line = line;
  const std::size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return invalid(400, "malformed request line");
  head.method_name = line.substr(0, sp1);
  for (const char c : head.method_name) {
    if (!is_token_char(c)) return invalid(400, "malformed method");
  }
  head.method = method_of(head.method_name);
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return invalid(400, "malformed request line");
  }
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (const char c : head.target) {
    if (!is_target_char(static_cast<unsigned char>(c))) return invalid(400, "bad request target");
  }
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
      version[6] != '.' || !is_digit(version[7])) {
    return invalid(400, "malformed HTTP version");
  }
  if (version[5] != '1') return invalid(505, "HTTP major version not supported");
  head.minor_version = version[7] == '0' ? 0 : 1;  // 1.2 and up are answered as 1.1
  head.keep_alive = head.minor_version == 1;
  return {};
}

// Applies the tokens of a Connection field ("close", "keep-alive", others ignored).
void apply_connection(std::string_view value, RequestHead& head) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view token = trim_ows(value.substr(0, comma));
    if (equals_ignore_case(token, "close")) {
      head.keep_alive = false;
    } else if (equals_ignore_case(token, "keep-alive") && head.minor_version == 0) {
      head.keep_alive = true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

struct FieldState {
  bool seen_host = false;
  bool seen_length = false;
  bool close_requested = false;
};

ParseOutcome apply_field(std::string_view name, std::string_view value, RequestHead& head,
                         FieldState& state) {
  if (equals_ignore_case(name, "host")) {
    if (state.seen_host) return invalid(400, "more than one Host");
    state.seen_host = true;
    head.host = value;
  } else if (equals_ignore_case(name, "content-length")) {
    std::uint64_t length = 0;
    if (!parse_decimal(value, length)) return invalid(400, "bad Content-Length");
    if (state.seen_length && length != head.content_length) {
      return invalid(400, "conflicting Content-Length");
    }
    state.seen_length = true;
    head.has_content_length = true;
    head.content_length = length;
  } else if (equals_ignore_case(name, "transfer-encoding")) {
    head.has_transfer_encoding = true;
    head.transfer_encoding = value;
  } else if (equals_ignore_case(name, "connection")) {
    apply_connection(value, head);
    // "close" wins whatever else is listed, in this field or another.
    state.close_requested = state.close_requested || !head.keep_alive;
  } else if (equals_ignore_case(name, "if-match")) {
    if (!head.if_match.add(value)) return invalid(400, "too many If-Match lines");
  } else if (equals_ignore_case(name, "if-unmodified-since")) {
    head.if_unmodified_since = value;
  } else if (equals_ignore_case(name, "if-none-match")) {
    if (!head.if_none_match.add(value)) return invalid(400, "too many If-None-Match lines");
  } else if (equals_ignore_case(name, "if-modified-since")) {
    head.if_modified_since = value;
  } else if (equals_ignore_case(name, "range")) {
    head.range = value;
  } else if (equals_ignore_case(name, "if-range")) {
    head.if_range = value;
  } else if (equals_ignore_case(name, "accept-encoding")) {
    if (!head.accept_encoding.add(value)) return invalid(400, "too many Accept-Encoding lines");
  } else if (equals_ignore_case(name, "user-agent")) {
    head.user_agent = value;
  } else if (equals_ignore_case(name, "referer")) {
    head.referer = value;
  }
  return {};
}

ParseOutcome parse_field(std::string_view line, RequestHead& head, FieldState& state) {
  if (line.front() == ' ' || line.front() == '\t') return invalid(400, "obsolete line folding");
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return invalid(400, "malformed header field");
  const std::string_view name = line.substr(0, colon);
  for (const char c : name) {
    // Whitespace before the colon is refused (RFC 9112 5.1): proxies disagree on its meaning.
    if (!is_token_char(c)) return invalid(400, "malformed header field name");
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return invalid(400, "control character in a field");
  }
  return apply_field(name, value, head, state);
}

// uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): a reg-name (unreserved, sub-delims, %),
// or an IP literal in brackets; no userinfo ("user@host"), no spaces, no second colon.
bool is_valid_host(std::string_view host) {
  std::size_t end = 0;
  if (!host.empty() && host.front() == '[') {
    end = host.find(']');
    if (end == std::string_view::npos || end == 1) return false;
    for (const char c : host.substr(1, end - 1)) {
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
    }
    ++end;
  } else {
    while (end < host.size() && host[end] != ':') {
      const char c = host[end++];
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && std::string_view("-._~!$&'()*+,;=%").find(c) == std::string_view::npos) {
        return false;
      }
    }
  }
  if (end == host.size()) return true;
  if (host[end] != ':') return false;
  const std::string_view port = host.substr(end + 1);  // may be empty (RFC 3986: port = *DIGIT)
  return port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ParseOutcome parse_request_head(std::string_view data, const ParseLimits& limits,
                                RequestHead& head) {
  head = RequestHead{};
  std::size_t pos = 0;
  // RFC 9112 2.2: a server SHOULD ignore empty lines received before the request line.
  while (pos < data.size() && (data[pos] == '\n' || (data[pos] == '\r' && pos + 1 < data.size() &&
                                                     data[pos + 1] == '\n'))) {
    pos += data[pos] == '\r' ? 2 : 1;
  }
  if (pos + 1 == data.size() && data[pos] == '\r') ++pos;  // an empty line's CR, its LF to come
  if (pos >= limits.max_head) return invalid(400, "too many empty lines");
  if (pos >= data.size()) return {};

  const Line request_line = line_at(data, pos);
  if (!request_line.complete) {
    if (!plausible_prefix(request_line.text)) return invalid(400, "malformed request line");
    if (data.size() >= limits.max_head) return invalid(414, "request line too long");
    return {};
  }
  if (request_line.next > limits.max_head) return invalid(414, "request line too long");
  if (request_line.bad_cr) return invalid(400, "stray CR in the request line");
  if (ParseOutcome bad = parse_request_line(request_line.text, head);
      bad.state == ParseOutcome::kInvalid) {
    return bad;
  }

  FieldState state;
  std::size_t fields = 0;
  pos = request_line.next;
  for (;;) {
    const Line line = line_at(data, pos);
    if (!line.complete) {
      if (data.size() >= limits.max_head) return invalid(431, "request head too large");
      return {};
    }
    if (line.next > limits.max_head) return invalid(431, "request head too large");
    if (line.bad_cr) return invalid(400, "stray CR in a header field");
    pos = line.next;
    if (line.text.empty()) break;
    if (++fields > limits.max_fields) return invalid(431, "too many header fields");
    if (ParseOutcome bad = parse_field(line.text, head, state);
        bad.state == ParseOutcome::kInvalid) {
      return bad;
    }
  }
  if (head.minor_version == 1 && !state.seen_host) return invalid(400, "HTTP/1.1 without Host");
  // An absolute-form target names the host itself, and then Host is to be ignored (RFC 9112
  // 3.2.2): the site must be chosen by what the target says.
  for (const std::string_view scheme :
       {std::string_view("http://"), std::string_view("https://")}) {
    if (starts_with_ignore_case(head.target, scheme)) {
      const std::string_view rest = head.target.substr(scheme.size());
      head.host = rest.substr(0, rest.find_first_of("/?#"));
      break;
    }
  }
  if (!is_valid_host(head.host)) return invalid(400, "invalid Host");
  if (state.close_requested) head.keep_alive = false;
  return {ParseOutcome::kComplete, pos, 0, ""};
}

}  // namespace zap::http
