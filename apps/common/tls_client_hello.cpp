#include "tls_client_hello.hpp"

namespace zap::app {

namespace {

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kClientHello = 1;
constexpr std::uint16_t kServerNameExtension = 0;
constexpr std::uint8_t kHostNameType = 0;

// A bounds-checked reader over one length-delimited structure: every take() that would run past
// the end fails, and a failed reader stays failed, so a parse checks once at the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const { return ok_; }
  bool empty() const { return rest_.empty(); }

  std::uint32_t number(std::size_t size) {
    const std::string_view b = take(size);
    std::uint32_t n = 0;
    for (const char c : b) n = (n << 8) | static_cast<std::uint8_t>(c);
    return n;
  }
  std::string_view take(std::size_t size) {
    if (!ok_ || size > rest_.size()) {
      ok_ = false;
      return {};
    }
    const std::string_view out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return out;
  }
  // A structure behind a `size`-byte length, as a reader of its own.
  Reader nested(std::size_t size) {
    const std::uint32_t length = number(size);
    Reader inner(take(length));
    inner.ok_ = ok_;
    return inner;
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
  char previous = '.';
  for (const char c : name) {
    const bool letter_or_digit =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!letter_or_digit && c != '-' && c != '.') return false;
    if (c == '.' && previous == '.') return false;  // an empty label
    previous = c;
  }
  return true;
}

// The host_name of a server_name extension's body, or "" if it has none (or is malformed).
std::string_view host_name_in(std::string_view extension) {
  Reader body(extension);
  Reader list = body.nested(2);
  while (list.ok() && !list.empty()) {
    const std::uint32_t type = list.number(1);
    const std::string_view name = list.take(list.number(2));
    if (list.ok() && type == kHostNameType) return name;  // at most one per type (RFC 6066 3)
  }
  return {};
}

}  // namespace

ClientHelloSni find_client_hello_sni(std::string_view bytes) {
  ClientHelloSni none;
  // The record header: content type, version (3.x), length. What cannot be a TLS handshake is
  // known from the first byte, so a plaintext client is not kept waiting for five.
  if (!bytes.empty() && static_cast<std::uint8_t>(bytes[0]) != kHandshakeRecord) return none;
  if (bytes.size() >= 2 && bytes[1] != 3) return none;
  if (bytes.size() < 5) return {ClientHelloSni::kNeedMore, 5, {}};
  Reader record_header(bytes.substr(0, 5));
  record_header.take(3);
  const std::size_t record_length = record_header.number(2);
  if (record_length == 0 || 5 + record_length > kMaxClientHelloRecord) return none;
  if (bytes.size() < 5 + record_length) return {ClientHelloSni::kNeedMore, 5 + record_length, {}};

  Reader record(bytes.substr(5, record_length));
  if (record.number(1) != kClientHello) return none;
  // The whole ClientHello must be in this record (reassembling records is not worth it).
  Reader hello = record.nested(3);
  if (!hello.ok()) return none;
  hello.take(2 + 32);                             // client_version, random
  hello.nested(1);                                // session_id
  hello.nested(2);                                // cipher_suites
  hello.nested(1);                                // compression_methods
  if (!hello.ok() || hello.empty()) return none;  // no extensions: no SNI
  Reader extensions = hello.nested(2);
  while (extensions.ok() && !extensions.empty()) {
    const std::uint32_t type = extensions.number(2);
    const std::string_view body = extensions.take(extensions.number(2));
    if (!extensions.ok() || type != kServerNameExtension) continue;
    const std::string_view name = host_name_in(body);
    if (!is_host_name(name)) return none;
    return {ClientHelloSni::kFound, 0, name};
  }
  return none;
}

}  // namespace zap::app
