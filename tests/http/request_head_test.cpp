#include "request_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace zap::http {
namespace {

ParseOutcome parse(std::string_view text, RequestHead& head, ParseLimits limits = {}) {
  return parse_request_head(text, limits, head);
}

TEST(RequestHead, ParsesAGetWithTheFieldsAFileServerUses) {
  const std::string text =
      "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
      "If-None-Match: \"abc\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "Range: bytes=0-99\r\nIf-Range: \"abc\"\r\nX-Unknown: skipped\r\n\r\nBODY";
  RequestHead head;
  const ParseOutcome outcome = parse(text, head);
  ASSERT_EQ(outcome.state, ParseOutcome::kComplete) << outcome.reason;
  EXPECT_EQ(outcome.head_size, text.size() - 4);
  EXPECT_EQ(head.method, Method::kGet);
  EXPECT_EQ(head.target, "/index.html?x=1");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.host, "example.com");
  EXPECT_EQ(head.user_agent, "test/1.0");
  ASSERT_EQ(head.if_none_match.lines(), 1u);
  EXPECT_EQ(head.if_none_match.line(0), "\"abc\"");
  EXPECT_EQ(head.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(head.range, "bytes=0-99");
  EXPECT_EQ(head.if_range, "\"abc\"");
}

// A list may come on several lines (RFC 9110 5.3): each line is kept, in order, and a field
// repeated more often than any client would is refused rather than cut.
TEST(RequestHead, ListFieldsKeepEveryLine) {
  const std::string text =
      "GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\", \"b\"\r\nAccept-Encoding: br\r\n"
      "If-None-Match: \"c\"\r\nIf-Match: \"m\"\r\naccept-encoding:  gzip "
      "\r\nIf-None-Match:\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parse(text, head).state, ParseOutcome::kComplete);
  ASSERT_EQ(head.if_none_match.lines(), 2u) << "an empty line adds no item";
  EXPECT_EQ(head.if_none_match.line(0), "\"a\", \"b\"");
  EXPECT_EQ(head.if_none_match.line(1), "\"c\"");
  ASSERT_EQ(head.accept_encoding.lines(), 2u);
  EXPECT_EQ(head.accept_encoding.line(1), "gzip");
  ASSERT_EQ(head.if_match.lines(), 1u);

  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 0; i <= FieldLines::kMaxLines; ++i) many += "If-None-Match: \"x\"\r\n";
  const ParseOutcome outcome = parse(many + "\r\n", head);
  EXPECT_EQ(outcome.state, ParseOutcome::kInvalid);
  EXPECT_EQ(outcome.status, 400);
}

TEST(RequestHead, EveryPrefixOfAValidHeadIsIncomplete) {
  const std::string text = "HEAD /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  for (std::size_t n = 0; n < text.size(); ++n) {
    RequestHead head;
    EXPECT_EQ(parse(text.substr(0, n), head).state, ParseOutcome::kIncomplete) << n;
  }
  RequestHead head;
  ASSERT_EQ(parse(text, head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.method, Method::kHead);
  EXPECT_FALSE(head.keep_alive);
}

TEST(RequestHead, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
  RequestHead head;
  const std::string text = "\r\n\nGET / HTTP/1.1\nHost: h\n\n";
  const ParseOutcome outcome = parse(text, head);
  ASSERT_EQ(outcome.state, ParseOutcome::kComplete) << outcome.reason;
  EXPECT_EQ(outcome.head_size, text.size());
  EXPECT_EQ(head.target, "/");
}

TEST(RequestHead, AnEmptyLineSplitBetweenItsCrAndLfIsIncomplete) {
  RequestHead head;
  EXPECT_EQ(parse("\r", head).state, ParseOutcome::kIncomplete);
  EXPECT_EQ(parse("\r\n\r", head).state, ParseOutcome::kIncomplete);
  EXPECT_EQ(parse("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", head).state, ParseOutcome::kComplete);
}

TEST(RequestHead, EmptyLinesThatFillTheBufferAreRefused) {
  ParseLimits limits;
  limits.max_head = 64;
  RequestHead head;
  // Found by the fuzzer: 63 LFs and a CR once waited for more input with the buffer full.
  EXPECT_EQ(parse(std::string(63, '\n') + "\r", head, limits).status, 400);
  EXPECT_EQ(parse(std::string(64, '\n'), head, limits).status, 400);
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  RequestHead head;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(
      parse("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", head).state,
      ParseOutcome::kComplete);
  EXPECT_FALSE(head.keep_alive) << "close wins over keep-alive";
}

TEST(RequestHead, HigherMinorVersionsAreServedAsHttp11) {
  RequestHead head;
  ASSERT_EQ(parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.minor_version, 1);
}

TEST(RequestHead, MethodsAreClassified) {
  RequestHead head;
  ASSERT_EQ(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.method, Method::kOptions);
  ASSERT_EQ(parse("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.method, Method::kOther);
  EXPECT_EQ(head.method_name, "DELETE");
  ASSERT_EQ(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.method, Method::kOther) << "methods are case-sensitive";
}

TEST(RequestHead, ContentLengthAndTransferEncodingAreReported) {
  RequestHead head;
  ASSERT_EQ(
      parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n", head)
          .state,
      ParseOutcome::kComplete);
  EXPECT_EQ(head.content_length, 12u);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_TRUE(head.has_transfer_encoding);
  EXPECT_EQ(head.transfer_encoding, "chunked");
  EXPECT_FALSE(head.has_content_length);
}

struct Refusal {
  const char* text;
  int status;
};

class RequestHeadRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(RequestHeadRefuses, WithTheRightStatus) {
  RequestHead head;
  const ParseOutcome outcome = parse(GetParam().text, head);
  EXPECT_EQ(outcome.state, ParseOutcome::kInvalid) << GetParam().text;
  EXPECT_EQ(outcome.status, GetParam().status) << outcome.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, RequestHeadRefuses,
    ::testing::Values(
        Refusal{"GET / HTTP/1.1\r\n\r\n", 400},                        // no Host
        Refusal{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // two Hosts
        Refusal{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},            // space before :
        Refusal{"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},  // obs-fold
        Refusal{"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},  // no colon
        Refusal{"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},          // stray CR
        Refusal{"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},         // control char
        Refusal{"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
        Refusal{"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},    // two spaces
        Refusal{"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},  // space in target
        Refusal{"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},    // trailing space
        Refusal{"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        Refusal{"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
        Refusal{"GET / http/1.1\r\nHost: h\r\n\r\n", 400},
        Refusal{"G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        Refusal{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},  // TLS hello, no newline
        Refusal{"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        // Host must be host[:port] (RFC 9112 3.2): no userinfo, spaces, slashes or junk.
        Refusal{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: a.test:80@b.test\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: a.test:80:81\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: a.test:8o\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: [zz::1]:80\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
        Refusal{"GET http://x y/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        Refusal{"GET http://u@b.test/ HTTP/1.1\r\nHost: a\r\n\r\n", 400}));

TEST(RequestHead, HostIsCheckedAndAnAbsoluteTargetsAuthorityWins) {
  for (const char* host : {"a.test", "A.Test:8080", "127.0.0.1:80", "[::1]:443", "[::ffff:1.2.3.4]",
                           "xn--bcher-kva.example", "a.test:", ""}) {
    RequestHead head;
    const std::string text = std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n";
    EXPECT_EQ(parse(text, head).state, ParseOutcome::kComplete) << host;
    EXPECT_EQ(head.host, host);
  }
  RequestHead head;
  ASSERT_EQ(parse("GET http://b.test:81/x?y HTTP/1.1\r\nHost: a.test\r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_EQ(head.host, "b.test:81");
  ASSERT_EQ(parse("GET HTTPS://C.test HTTP/1.1\r\nHost: a.test\r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_EQ(head.host, "C.test");
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", head).state, ParseOutcome::kComplete);
  EXPECT_EQ(head.host, "");
}

TEST(RequestHead, AnOversizedRequestLineIs414AndAnOversizedHeadIs431) {
  ParseLimits limits;
  limits.max_head = 64;
  RequestHead head;
  const std::string long_line = "GET /" + std::string(100, 'a');
  EXPECT_EQ(parse(long_line, head, limits).status, 414);
  const std::string long_head = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(100, 'b');
  EXPECT_EQ(parse(long_head, head, limits).status, 431);
  const std::string complete_but_long = long_head + "\r\n\r\n";
  EXPECT_EQ(parse(complete_but_long, head, limits).status, 431);
}

TEST(RequestHead, TooManyFieldsIs431) {
  ParseLimits limits;
  limits.max_fields = 3;
  RequestHead head;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", head, limits).status,
            431);
}

TEST(RequestHead, FieldValuesAreTrimmedButKeepInnerSpaces) {
  RequestHead head;
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost:\t h \t\r\nUser-Agent:  a b  \r\n\r\n", head).state,
            ParseOutcome::kComplete);
  EXPECT_EQ(head.host, "h");
  EXPECT_EQ(head.user_agent, "a b");
}

}  // namespace
}  // namespace zap::http
