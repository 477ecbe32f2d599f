#include "http_date.hpp"

#include <gtest/gtest.h>

#include <string>

namespace zap::http {
namespace {

std::string format(std::int64_t t) {
  char text[kHttpDateSize];
  format_http_date(t, text);
  return std::string(text, kHttpDateSize);
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
}

TEST(HttpDate, ParsesTheThreeFormsARecipientMustAccept) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Tue Feb 29 00:00:00 2000"), 951782400);
}

TEST(HttpDate, RoundTripsEveryDayForCenturies) {
  for (std::int64_t t = 0; t < 4102444800; t += 86400 * 7 + 3661) {
    EXPECT_EQ(parse_http_date(format(t)), t) << format(t);
  }
}

TEST(HttpDate, RefusesWhatIsNotADate) {
  for (const char* bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTX", "Sun Nov  6 08:49:37 94",
        "Sunday, 06-Nov-94 08:49:37", "Sun,"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace zap::http
