#include "http_date.hpp"

#include "ascii.hpp"

namespace zap::http {

namespace {

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);

void put2(char* out, unsigned v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}

// A cursor over the text being parsed; every read fails softly (ok() turns false).
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == text_.size(); }

  void expect(std::string_view literal) {
    if (ahead(literal.size()) != literal) ok_ = false;
    pos_ += literal.size();
  }
  unsigned digits(std::size_t count) {
    unsigned value = 0;
    for (std::size_t i = 0; i < count; ++i, ++pos_) {
      if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
        ok_ = false;
        return 0;
      }
      value = value * 10 + static_cast<unsigned>(text_[pos_] - '0');
    }
    return value;
  }
  // "Nov" -> 11
  unsigned month() {
    const std::string_view name = ahead(3);
    pos_ += 3;
    for (unsigned i = 0; i < 12; ++i) {
      if (name == kMonths[i]) return i + 1;
    }
    ok_ = false;
    return 0;
  }
  // A day name: three letters for the IMF and asctime forms, the full name for RFC 850.
  void weekday(bool full) {
    static constexpr const char* kFull[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
    for (int i = 0; i < 7; ++i) {
      const std::string_view name = full ? kFull[i] : kWeekdays[i];
      if (ahead(name.size()) == name) {
        pos_ += name.size();
        return;
      }
    }
    ok_ = false;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip(std::size_t n) { pos_ += n; }

 private:
  // Up to `n` characters from the cursor; empty once the cursor has run past the end.
  std::string_view ahead(std::size_t n) const {
    return pos_ <= text_.size() ? text_.substr(pos_, n) : std::string_view();
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

struct Fields {
  std::int64_t year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

void read_time(Reader& r, Fields& f) {
  f.hour = r.digits(2);
  r.expect(":");
  f.minute = r.digits(2);
  r.expect(":");
  f.second = r.digits(2);
}

std::optional<std::int64_t> to_unix(const Reader& r, const Fields& f) {
  if (!r.ok() || !r.at_end()) return std::nullopt;
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour > 23 || f.minute > 59 ||
      f.second > 60 || f.year < 1970) {
    return std::nullopt;
  }
  return days_from_civil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
}

}  // namespace

void format_http_date(std::int64_t unix_seconds, char* out) {
  if (unix_seconds < 0) unix_seconds = 0;
  const std::int64_t days = unix_seconds / 86400;
  const auto secs = static_cast<unsigned>(unix_seconds % 86400);
  const Civil c = civil_from_days(days);
  const char* weekday = kWeekdays[(days + 4) % 7];  // 1970-01-01 was a Thursday
  out[0] = weekday[0];
  out[1] = weekday[1];
  out[2] = weekday[2];
  out[3] = ',';
  out[4] = ' ';
  put2(out + 5, c.day);
  out[7] = ' ';
  const char* month = kMonths[c.month - 1];
  out[8] = month[0];
  out[9] = month[1];
  out[10] = month[2];
  out[11] = ' ';
  const auto year = static_cast<unsigned>(c.year % 10000);
  put2(out + 12, year / 100);
  put2(out + 14, year % 100);
  out[16] = ' ';
  put2(out + 17, secs / 3600);
  out[19] = ':';
  put2(out + 20, secs / 60 % 60);
  out[22] = ':';
  put2(out + 23, secs % 60);
  out[25] = ' ';
  out[26] = 'G';
  out[27] = 'M';
  out[28] = 'T';
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  Fields f;
  if (text.size() == kHttpDateSize && text[3] == ',') {  // IMF-fixdate
    Reader r(text);
    r.weekday(false);
    r.expect(", ");
    f.day = r.digits(2);
    r.expect(" ");
    f.month = r.month();
    r.expect(" ");
    f.year = r.digits(4);
    r.expect(" ");
    read_time(r, f);
    r.expect(" GMT");
    return to_unix(r, f);
  }
  if (text.size() > 3 && text[3] == ' ') {  // asctime: "Sun Nov  6 08:49:37 1994"
    Reader r(text);
    r.weekday(false);
    r.expect(" ");
    f.month = r.month();
    r.expect(" ");
    if (r.peek() == ' ') {
      r.skip(1);
      f.day = r.digits(1);
    } else {
      f.day = r.digits(2);
    }
    r.expect(" ");
    read_time(r, f);
    r.expect(" ");
    f.year = r.digits(4);
    return to_unix(r, f);
  }
  Reader r(text);  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  r.weekday(true);
  r.expect(", ");
  f.day = r.digits(2);
  r.expect("-");
  f.month = r.month();
  r.expect("-");
  const unsigned yy = r.digits(2);
  f.year = yy < 70 ? 2000 + yy : 1900 + yy;
  r.expect(" ");
  read_time(r, f);
  r.expect(" GMT");
  return to_unix(r, f);
}

}  // namespace zap::http
