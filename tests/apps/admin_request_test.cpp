#include "admin_request.hpp"

#include <gtest/gtest.h>

namespace zap::app {
namespace {

TEST(AdminRequest, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_request_head_end("GET / HTTP/1.1\r\n"), 0u);
  EXPECT_EQ(find_request_head_end("GET / HTTP/1.1\r\n\r\n"), 18u);
  EXPECT_EQ(find_request_head_end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 24u);
}

TEST(AdminRequest, AcceptsGetAndHeadAndDropsTheQuery) {
  const auto get = parse_admin_request("GET /stats?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.path, "/stats");
  EXPECT_FALSE(get.head_only);
  const auto head = parse_admin_request("HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.head_only);
}

TEST(AdminRequest, OtherMethodsAre405) {
  EXPECT_EQ(parse_admin_request("POST /stats HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(parse_admin_request("DELETE / HTTP/1.1\r\n\r\n").status, 405);
}

TEST(AdminRequest, MalformedHeadsAre400) {
  for (const char* head :
       {"\r\n\r\n", "GET\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/2\r\n\r\n",
        "GET stats HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "GET / HTTP/1.1\r\nHo st: x\r\n\r\n"}) {
    EXPECT_EQ(parse_admin_request(head).status, 400) << head;
  }
}

TEST(AdminRequest, ResponsesCarryLengthAndClose) {
  const std::string ok = render_admin_response(200, "application/json", "{}\n", false);
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(ok.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_NE(ok.find("Connection: close\r\n\r\n{}\n"), std::string::npos);
  const std::string head = render_admin_response(200, "text/plain", "abc", true);
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_NE(render_admin_response(405, "text/plain", "", false).find("Allow: GET, HEAD"),
            std::string::npos);
}

}  // namespace
}  // namespace zap::app
