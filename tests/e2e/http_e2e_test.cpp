// zap-http end to end: the real daemon on 127.0.0.1 with a kernel-chosen port, a document root
// made per test, and raw sockets for what curl would hide (pipelining, malformed heads, slow or
// vanishing clients). Every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "daemon.hpp"
#include "process.hpp"
#include "test_client.hpp"

namespace zap::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// A document root with a few files, removed afterwards.
class Site {
 public:
  Site() { std::filesystem::create_directories(root_ + "/docs"); }
  ~Site() { std::filesystem::remove_all(dir_.path("")); }
  const std::string& root() const { return root_; }
  std::string write(const std::string& relative, const std::string& content) const {
    const std::string path = root_ + "/" + relative;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path + ".tmp", std::ios::binary) << content;
    std::filesystem::rename(path + ".tmp", path);
    return path;
  }

 private:
  TempDir dir_;
  std::string root_ = dir_.path("www");
};

// A config serving `site` on a free port with an admin listener, two workers on `backend`, and
// `extra` keys (text starting with a comma).
std::string http_config(const Site& site, const std::string& extra = "",
                        const std::string& backend = "auto") {
  return R"({"listeners": [{"port": 0}], "root": ")" + site.root() +
         R"(", "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2, "io_backend": ")" +
         backend + "\"}" + extra + "}";
}

std::string get(const std::string& target, const std::string& fields = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + fields + "\r\n";
}

class HttpBackends : public ::testing::TestWithParam<std::string> {};

TEST_P(HttpBackends, ServesFilesRangesRedirectsAndErrors) {
  Site site;
  site.write("index.html", "<h1>home</h1>");
  site.write("docs/index.html", "<h1>docs</h1>");
  const std::string big = pattern(3 << 20, 7);  // spliced from disk, not cached in memory
  site.write("big.bin", big);
  HttpDaemon http(http_config(site, "", GetParam()));
  const HttpReply home = http_request(http.address(), get("/"));
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(home.body, "<h1>home</h1>");
  EXPECT_EQ(home.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(home.header("Server"), "zap-http");
  EXPECT_FALSE(home.header("ETag").empty());
  EXPECT_FALSE(home.header("Date").empty());

  const HttpReply head = http_request(http.address(), "HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(big.size()));
  EXPECT_TRUE(head.body.empty());

  const HttpReply whole = http_request(http.address(), get("/big.bin"));
  EXPECT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == big) << "the spliced body differs";

  const HttpReply part =
      http_request(http.address(), get("/big.bin", "Range: bytes=1000-1999\r\n"));
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-1999/" + std::to_string(big.size()));
  EXPECT_TRUE(part.body == big.substr(1000, 1000));

  // Several ranges: multipart/byteranges, from the file (sendfile) and from a cached copy (a
  // part larger than the output buffer, and small ones), framed exactly: a request pipelined
  // behind each is answered on the same connection.
  const std::string cached = pattern(100 << 10, 9);
  site.write("cached.bin", cached);
  // Sixteen parts of 2500 bytes from memory fill the output buffer more than once (it is flushed
  // between parts).
  std::string sixteen = "bytes=";
  std::vector<std::pair<std::size_t, std::size_t>> sixteen_parts;
  for (std::size_t i = 0; i < 16; ++i) {
    sixteen_parts.emplace_back(i * 3000, i * 3000 + 2499);
    sixteen += (i ? "," : "") + std::to_string(i * 3000) + "-" + std::to_string(i * 3000 + 2499);
  }
  const std::vector<std::pair<std::size_t, std::size_t>> three_parts = {
      {0, 0}, {100, 50099}, {0, 0}};  // the last: the final 10 bytes (set per file below)
  struct Case {
    const char* path;
    const std::string* content;
    std::string range;
    std::vector<std::pair<std::size_t, std::size_t>> parts;
  };
  std::vector<Case> cases;
  for (const auto& [path, content] :
       {std::pair{"/big.bin", &big}, std::pair{"/cached.bin", &cached}}) {
    auto parts = three_parts;
    parts[2] = {content->size() - 10, content->size() - 1};
    cases.push_back({path, content, "bytes=0-0,100-50099,-10", parts});
  }
  cases.push_back({"/cached.bin", &cached, sixteen, sixteen_parts});
  for (const Case& c : cases) {
    Socket s = Socket::connect(http.address());
    ASSERT_TRUE(s.send_all(get(c.path, "Range: " + c.range + "\r\n") + get("/")));
    const HttpReply multi = read_http_reply(s);
    EXPECT_EQ(multi.status, 206) << c.path;
    const std::string type = multi.header("Content-Type");
    ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u) << type;
    const std::string boundary = type.substr(type.find('=') + 1);
    const std::string total = std::to_string(c.content->size());
    std::string expected;
    for (const auto& [first, last] : c.parts) {
      expected += (expected.empty() ? "--" : "\r\n--") + boundary +
                  "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes " +
                  std::to_string(first) + "-" + std::to_string(last) + "/" + total + "\r\n\r\n" +
                  c.content->substr(first, last - first + 1);
    }
    expected += "\r\n--" + boundary + "--\r\n";
    EXPECT_EQ(multi.body.size(), expected.size()) << c.path << " " << c.range;
    EXPECT_TRUE(multi.body == expected) << c.path << " " << c.range;
    EXPECT_EQ(read_http_reply(s).body, "<h1>home</h1>") << c.path;
  }

  const HttpReply redirect = http_request(http.address(), get("/docs"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.header("Location"), "/docs/");
  EXPECT_EQ(http_request(http.address(), get("/docs/")).body, "<h1>docs</h1>");
  EXPECT_EQ(http_request(http.address(), get("/missing")).status, 404);
  EXPECT_EQ(
      http_request(http.address(), "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
          .status,
      405);
  EXPECT_EQ(http.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, HttpBackends, ::testing::Values("epoll", "io_uring"),
                         [](const auto& param_info) { return param_info.param; });

TEST(HttpKeepAlive, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  Site site;
  for (int i = 0; i < 20; ++i) site.write("f" + std::to_string(i), "file " + std::to_string(i));
  HttpDaemon http(http_config(site));
  Socket s = Socket::connect(http.address());
  std::string burst;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 20; ++i) burst += get("/f" + std::to_string(i));
  }
  ASSERT_TRUE(s.send_all(burst));  // 100 requests in one write
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 20; ++i) {
      const HttpReply reply = read_http_reply(s);
      ASSERT_EQ(reply.status, 200) << "round " << round << " file " << i;
      EXPECT_EQ(reply.body, "file " + std::to_string(i));
    }
  }
  // Still open for more; an HTTP/1.0 request without keep-alive ends it.
  ASSERT_TRUE(s.send_all("GET /f1 HTTP/1.0\r\n\r\n"));
  const HttpReply last = read_http_reply(s);
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.header("Connection"), "close");
  EXPECT_TRUE(s.recv_until_closed().closed);
  EXPECT_TRUE(http.wait_for_stat("requests", 101));
}

TEST(HttpConditional, AnUnchangedFileIs304AndAChangedOneIsSent) {
  Site site;
  site.write("a.txt", "version 1");
  HttpDaemon http(http_config(site, R"(, "file_cache": {"validity_ms": 0})"));
  const HttpReply first = http_request(http.address(), get("/a.txt"));
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.header("ETag");
  const HttpReply same =
      http_request(http.address(), get("/a.txt", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.header("ETag"), etag);
  site.write("a.txt", "version 2 is longer");
  const HttpReply changed =
      http_request(http.address(), get("/a.txt", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, "version 2 is longer");
}

// A deploy that swaps the root's symlink to a new release is served from the new release, not
// from the old one until a restart; and a failed precondition answers 412.
TEST(HttpConditional, ASwappedRootSymlinkIsFollowedAndAFailedPreconditionIs412) {
  TempDir dir;
  const std::string releases = dir.path("releases");
  std::filesystem::create_directories(releases + "/v1");
  std::filesystem::create_directories(releases + "/v2");
  std::ofstream(releases + "/v1/index.html") << "v1";
  std::ofstream(releases + "/v2/index.html") << "v2";
  const std::string current = dir.path("current");
  std::filesystem::create_symlink(releases + "/v1", current);
  HttpDaemon http(R"({"listeners": [{"port": 0}], "root": ")" + current +
                  R"(", "file_cache": {"validity_ms": 0}})");
  const HttpReply before = http_request(http.address(), get("/"));
  EXPECT_EQ(before.body, "v1");
  std::filesystem::create_symlink(releases + "/v2", current + ".new");
  std::filesystem::rename(current + ".new", current);
  EXPECT_EQ(http_request(http.address(), get("/")).body, "v2");
  const std::string etag = http_request(http.address(), get("/")).header("ETag");
  EXPECT_EQ(http_request(http.address(), get("/", "If-Match: " + etag + "\r\n")).status, 200);
  EXPECT_EQ(http_request(http.address(), get("/", "If-Match: \"stale\"\r\n")).status, 412);
  EXPECT_EQ(http.stop(), 0);
}

struct Malformed {
  const char* name;
  std::string request;
  int status;
};

TEST(HttpMalformed, EachGetsItsErrorAndTheConnectionCloses) {
  Site site;
  site.write("index.html", "x");
  HttpDaemon http(http_config(site));
  const Malformed cases[] = {
      {"garbage", "\x16\x03\x01\x02\x00 hello", 400},
      {"no host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"http/2", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"uri too long", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"head too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'b') + "\r\n\r\n",
       431},
      {"unknown final coding", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"chunked and a length",
       "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "0\r\n\r\n",
       400},
      {"body too large", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413},
      {"traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400},
  };
  for (const Malformed& c : cases) {
    Socket s = Socket::connect(http.address());
    ASSERT_TRUE(s.send_all(c.request)) << c.name;
    const Socket::Drained answer = s.recv_until_closed();
    EXPECT_TRUE(answer.closed) << c.name;
    EXPECT_FALSE(answer.reset) << c.name << ": the error must arrive, not a reset";
    EXPECT_EQ(answer.data.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u)
        << c.name << ": " << answer.data.substr(0, 60);
  }
  EXPECT_EQ(http_request(http.address(), get("/")).status, 200) << "still serving";
}

TEST(HttpBodies, AResponseNeverWaitsForARequestBody) {
  Site site;
  site.write("a.txt", "aaaa");
  HttpDaemon http(http_config(site));
  // The client announces a body and waits for us before sending it (Expect: 100-continue).
  Socket waiting = Socket::connect(http.address());
  ASSERT_TRUE(waiting.send_all(
      "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n"));
  const auto start = Clock::now();
  const HttpReply answer = read_http_reply(waiting, false, std::chrono::seconds(5));
  EXPECT_EQ(answer.status, 405);
  EXPECT_EQ(answer.header("Connection"), "close") << "the unread body cannot stay on the line";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(waiting.recv_until_closed(std::chrono::seconds(5)).closed);

  // A body that came with its head is dropped and the connection goes on.
  Socket whole = Socket::connect(http.address());
  ASSERT_TRUE(whole.send_all("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" +
                             get("/a.txt")));
  EXPECT_EQ(read_http_reply(whole).body, "aaaa");
  EXPECT_EQ(read_http_reply(whole).body, "aaaa") << "the body was not taken for a request";

  // A chunked body (RFC 9112: every recipient must accept one) is answered like any other --
  // the file, or 405 -- and the connection closed, the body drained unread.
  for (const auto& [request, status] :
       {std::pair<std::string, int>{"GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                                    "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                                    200},
        {"POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n",
         405}}) {
    Socket chunked = Socket::connect(http.address());
    ASSERT_TRUE(chunked.send_all(request));
    const HttpReply reply = read_http_reply(chunked);
    EXPECT_EQ(reply.status, status) << request;
    EXPECT_EQ(reply.header("Connection"), "close") << request;
    if (status == 200) {
      EXPECT_EQ(reply.body, "aaaa");
    }
    const Socket::Drained rest = chunked.recv_until_closed();
    EXPECT_TRUE(rest.closed && !rest.reset) << request;
  }

  // HEAD gets no body even with an error that closes the connection.
  Socket head = Socket::connect(http.address());
  ASSERT_TRUE(head.send_all("HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"));
  const Socket::Drained reply = head.recv_until_closed();
  EXPECT_EQ(reply.data.rfind("HTTP/1.1 400 ", 0), 0u) << reply.data;
  EXPECT_EQ(reply.data.size(), reply.data.find("\r\n\r\n") + 4) << "a HEAD answer has no body";
}

TEST(HttpConfinement, NothingOutsideTheRootIsServed) {
  Site site;
  TempDir outside;
  const std::string secret = outside.write("secret.txt", "TOP SECRET");
  site.write("ok.txt", "fine");
  std::filesystem::create_symlink(secret, site.root() + "/link-out");
  std::filesystem::create_symlink(outside.path(""), site.root() + "/dir-out");
  HttpDaemon http(http_config(site));
  for (const std::string target : {"/link-out", "/dir-out/secret.txt", "/%2e%2e/secret.txt",
                                   "/ok.txt/../../secret.txt", "/docs/%2E%2E/%2E%2E/x"}) {
    const HttpReply reply = http_request(http.address(), get(target));
    EXPECT_NE(reply.status, 200) << target;
    EXPECT_EQ(reply.body.find("TOP SECRET"), std::string::npos) << target;
  }
  EXPECT_EQ(http_request(http.address(), get("/link-out")).status, 403);
  EXPECT_EQ(http_request(http.address(), get("/ok.txt")).body, "fine");
  // With follow_symlinks the site's owner lets symlinks lead out; ".." still cannot.
  HttpDaemon follows(http_config(site, R"(, "follow_symlinks": true)"));
  EXPECT_EQ(http_request(follows.address(), get("/link-out")).body, "TOP SECRET");
  EXPECT_EQ(http_request(follows.address(), get("/dir-out/secret.txt")).body, "TOP SECRET");
  EXPECT_NE(http_request(follows.address(), get("/%2e%2e/secret.txt")).status, 200);
}

// Each virtual host serves its own root with its own rules; a Host no virtual host names (or an
// address) gets the default site.
TEST(HttpVirtualHosts, EachHostGetsItsOwnSiteAndUnknownHostsTheDefault) {
  Site site;
  site.write("index.html", "default");
  TempDir roots;
  std::filesystem::create_directories(roots.path("a/docs"));
  std::filesystem::create_directories(roots.path("b"));
  roots.write("a/index.html", "site a");
  roots.write("b/index.html", "site b");
  HttpDaemon http(http_config(site, R"(, "virtual_hosts": [
      {"names": ["a.test", "WWW.A.Test"], "root": ")" +
                                        roots.path("a") +
                                        R"(", "autoindex": true,
       "headers": {"X-Site": "a"}},
      {"names": ["*.b.test"], "root": ")" +
                                        roots.path("b") + R"("}])"));
  auto get_host = [&](const std::string& host, const std::string& path = "/") {
    return http_request(http.address(), "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
  };
  EXPECT_EQ(get_host("a.test").body, "site a");
  EXPECT_EQ(get_host("a.test").header("X-Site"), "a");
  EXPECT_EQ(get_host("www.a.test:8080").body, "site a");
  EXPECT_EQ(get_host("A.TEST.").body, "site a");
  EXPECT_EQ(get_host("a.test", "/docs/").status, 200) << "a's autoindex";
  EXPECT_EQ(get_host("x.b.test").body, "site b");
  EXPECT_EQ(get_host("deep.x.b.test").body, "site b");
  EXPECT_EQ(get_host("x.b.test").header("X-Site"), "");
  for (const char* other : {"b.test", "unknown.test", "127.0.0.1:80", "[::1]:80"}) {
    EXPECT_EQ(get_host(other).body, "default") << other;
  }
  EXPECT_EQ(get_host("unknown.test", "/docs/").status, 403) << "the default's docs/: no autoindex";
  EXPECT_EQ(http_request(http.address(), "GET / HTTP/1.0\r\n\r\n").body, "default");
  // An absolute-form target names the site, whatever Host says (RFC 9112 3.2.2).
  EXPECT_EQ(
      http_request(http.address(), "GET http://a.test/ HTTP/1.1\r\nHost: x.b.test\r\n\r\n").body,
      "site a");
  EXPECT_EQ(get_host("a.test@x.b.test").status, 400);
  EXPECT_EQ(get_host("a.test:80:80").status, 400);
}

// "unknown_hosts": "refuse": only the named hosts are served; any other Host (an address, none
// at all) gets 421 and a closed connection, and the top level needs no root of its own.
TEST(HttpVirtualHosts, RefusedUnknownHostsGet421AndAClosedConnection) {
  TempDir roots;
  std::filesystem::create_directories(roots.path("a"));
  roots.write("a/index.html", "site a");
  HttpDaemon http(R"({"listeners": [{"port": 0}], "unknown_hosts": "refuse",
      "virtual_hosts": [{"names": ["a.test"], "root": ")" +
                  roots.path("a") + R"("}]})");
  auto get_host = [&](const std::string& host, const std::string& method = "GET") {
    return http_request(http.address(), method + " / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
  };
  EXPECT_EQ(get_host("a.test").body, "site a");
  EXPECT_EQ(get_host("A.test:8080").status, 200);
  for (const char* other : {"b.test", "127.0.0.1", "[::1]:80"}) {
    const HttpReply refused = get_host(other);
    EXPECT_EQ(refused.status, 421) << other;
    EXPECT_EQ(refused.header("Connection"), "close") << other;
    EXPECT_NE(refused.body.find("Misdirected Request"), std::string::npos) << other;
  }
  const HttpReply head = get_host("b.test", "HEAD");
  EXPECT_EQ(head.status, 421);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(http_request(http.address(), "GET / HTTP/1.0\r\n\r\n").status, 421) << "no Host";
  // The host is refused before its framing is looked at (as nginx picks the server first).
  EXPECT_EQ(http_request(http.address(),
                         "POST / HTTP/1.1\r\nHost: b.test\r\nTransfer-Encoding: chunked\r\n\r\n")
                .status,
            421);
  // An absolute-form target names the site, whatever Host says.
  EXPECT_EQ(
      http_request(http.address(), "GET http://a.test/ HTTP/1.1\r\nHost: b.test\r\n\r\n").body,
      "site a");
  // A refusal closes the connection: a request pipelined behind it gets no answer.
  Socket socket = Socket::connect(http.address());
  ASSERT_TRUE(
      socket.send_all("GET / HTTP/1.1\r\nHost: b.test\r\n\r\n"
                      "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"));
  const Socket::Drained both = socket.recv_until_closed();
  EXPECT_TRUE(both.closed);
  EXPECT_EQ(both.data.rfind("HTTP/1.1 421 Misdirected Request\r\n", 0), 0u);
  EXPECT_EQ(both.data.find("site a"), std::string::npos);
}

TEST(HttpTimeouts, ASlowLorisIsCutOffAndAnIdleConnectionClosed) {
  Site site;
  site.write("a", "a");
  HttpDaemon http(http_config(site, R"(, "request_timeout_ms": 300, "keepalive_timeout_ms": 300)"));
  Socket slow = Socket::connect(http.address());
  ASSERT_TRUE(slow.send_all("GET /a HTTP/1.1\r\nHost: x\r\n"));  // never finishes its head
  const auto start = Clock::now();
  std::thread trickle([&] {
    for (int i = 0; i < 20; ++i) {  // a byte every 100 ms would keep a per-read timer alive
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!slow.send_all("X")) break;
    }
  });
  Socket idle = Socket::connect(http.address());
  ASSERT_TRUE(idle.send_all(get("/a")));
  EXPECT_EQ(read_http_reply(idle).status, 200);
  EXPECT_TRUE(idle.recv_until_closed(std::chrono::seconds(5)).closed);
  trickle.join();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2100));
  const Socket::Drained cut = slow.recv_until_closed(std::chrono::seconds(5));
  EXPECT_TRUE(cut.closed);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

// send_timeout_ms drops a client that takes nothing, not one that reads slowly: the socket says
// it is writable only once a third of its (megabytes of) buffer has drained, which a slow reader
// takes longer than the timeout to do.
TEST(HttpTimeouts, ASlowButSteadyReaderIsNotCutBySendTimeout) {
  Site site;
  const std::string big = pattern(16 << 20, 5);
  site.write("big.bin", big);
  HttpDaemon http(http_config(site, R"(, "send_timeout_ms": 300)"));
  Socket client = Socket::connect_small_reader(http.address(), 8192);
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(client.send_all(get("/big.bin", "Connection: close\r\n")));
  std::string got = read_slowly(client, std::chrono::seconds(3));
  const Socket::Drained rest = client.recv_until_closed(std::chrono::seconds(20));
  got += rest.data;
  const std::size_t body_start = got.find("\r\n\r\n") + 4;
  ASSERT_NE(body_start, std::string::npos + 4);
  EXPECT_EQ(got.size() - body_start, big.size()) << "the slow reader was cut off";
  EXPECT_TRUE(got.compare(body_start, std::string::npos, big) == 0) << "download corrupted";

  // One that takes nothing is still dropped.
  Socket stalled = Socket::connect(http.address());
  ASSERT_TRUE(stalled.send_all(get("/big.bin")));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Socket::Drained late = stalled.recv_until_closed(std::chrono::seconds(10));
  EXPECT_TRUE(late.closed);
  EXPECT_LT(late.data.size(), big.size()) << "a client that read nothing for 2 s was not dropped";
}

TEST(HttpSignals, SigtermClosesIdleConnectionsAtOnceAndFinishesADownload) {
  Site site;
  const std::string big = pattern(48 << 20, 3);
  site.write("big.bin", big);
  HttpDaemon http(http_config(site, R"(, "shutdown_grace_ms": 20000)"));
  Socket idle = Socket::connect(http.address());
  ASSERT_TRUE(idle.send_all(get("/big.bin", "Range: bytes=0-0\r\n")));
  EXPECT_EQ(read_http_reply(idle).status, 206);
  Socket silent = Socket::connect(http.address());  // connected, has sent nothing yet
  Socket download = Socket::connect(http.address());
  ASSERT_TRUE(download.send_all(get("/big.bin")));
  const std::string start = download.recv_exact(1 << 20);  // in progress, far from done
  ASSERT_EQ(start.size(), 1u << 20);
  const auto signalled = Clock::now();
  http.process().signal(SIGTERM);
  EXPECT_TRUE(idle.recv_until_closed(std::chrono::seconds(10)).closed);
  EXPECT_TRUE(silent.recv_until_closed(std::chrono::seconds(10)).closed);
  // "At once" against a 20 s grace: 5 s leaves room for a loaded 2-core machine (2 s flaked once).
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(5)) << "idle ones closed at once";
  const Socket::Drained rest = download.recv_until_closed(std::chrono::seconds(15));
  EXPECT_TRUE(rest.closed);
  const std::string whole = start + rest.data;
  const std::size_t body_start = whole.find("\r\n\r\n") + 4;
  EXPECT_EQ(whole.size() - body_start, big.size());
  EXPECT_TRUE(whole.compare(body_start, std::string::npos, big) == 0) << "download corrupted";
  EXPECT_EQ(http.process().wait(kDeadline), 0);
}

TEST(HttpLimits, OverMaxConnectionsIs503AndAVanishedClientLeavesItHealthy) {
  Site site;
  site.write("big.bin", pattern(16 << 20, 5));
  site.write("small", "small");
  HttpDaemon http(http_config(site, R"(, "max_connections": 2)"));
  Socket a = Socket::connect(http.address());
  ASSERT_TRUE(a.send_all(get("/big.bin")));
  EXPECT_EQ(a.recv_exact(4096).size(), 4096u);  // mid-download
  Socket b = Socket::connect(http.address());
  ASSERT_TRUE(b.send_all(get("/small")));
  EXPECT_EQ(read_http_reply(b).status, 200);
  Socket c = Socket::connect(http.address());
  const Socket::Drained refused = c.recv_until_closed();
  EXPECT_EQ(refused.data.rfind("HTTP/1.1 503 ", 0), 0u) << refused.data;
  a.abort();  // vanishes mid-download with a reset
  b = Socket();
  EXPECT_TRUE(http.wait_for_stat("connections_open", 0));
  const HttpReply after = http_request(http.address(), get("/small"));
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "small");
  EXPECT_EQ(http.stop(), 0);
}

TEST(HttpAccessLog, EveryResponseIsLoggedAndSighupReopensTheFile) {
  Site site;
  site.write("a.txt", "aaaa");
  TempDir logs;
  const std::string log_path = logs.path("access.log");
  HttpDaemon http(http_config(site, R"(, "access_log": ")" + log_path + "\""));
  EXPECT_EQ(http_request(http.address(), get("/a.txt", "User-Agent: e2e-agent\r\n")).status, 200);
  EXPECT_EQ(http_request(http.address(), get("/missing")).status, 404);
  Socket bad = Socket::connect(http.address());
  ASSERT_TRUE(bad.send_all("BROKEN\r\n\r\n"));
  EXPECT_TRUE(bad.recv_until_closed().closed);
  // Rotate: move the file away, SIGHUP, and later lines go to a new file at the path.
  auto wait_for_text = [](const std::string& path, const std::string& text) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < until) {
      if (read_file(path).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  ASSERT_TRUE(wait_for_text(log_path, "\"BROKEN\" 400 ")) << read_file(log_path);
  const std::string before = read_file(log_path);
  EXPECT_NE(before.find("\"GET /a.txt HTTP/1.1\" 200 4 \"-\" \"e2e-agent\""), std::string::npos)
      << before;
  EXPECT_NE(before.find("\"GET /missing HTTP/1.1\" 404 "), std::string::npos) << before;
  EXPECT_EQ(before.rfind("127.0.0.1 - - [", 0), 0u) << before;
  std::filesystem::rename(log_path, log_path + ".1");
  http.process().signal(SIGHUP);
  ASSERT_TRUE(http.process().wait_for_log("reload:", kDeadline));
  EXPECT_EQ(http_request(http.address(), get("/a.txt?after")).status, 200);
  EXPECT_EQ(http.stop(), 0);  // flushes what is left
  EXPECT_NE(read_file(log_path).find("/a.txt?after"), std::string::npos);
  EXPECT_EQ(read_file(log_path + ".1").find("/a.txt?after"), std::string::npos);
}

// A download the client gives up on is still logged (and counted), with the body bytes that went
// out -- not the file's size, and not nothing (nginx's $body_bytes_sent).
TEST(HttpAccessLog, ADownloadCutShortIsLoggedWithTheBytesThatWent) {
  Site site;
  const std::string big(16 << 20, 'b');
  site.write("big.bin", big);
  TempDir logs;
  const std::string log_path = logs.path("access.log");
  HttpDaemon http(http_config(site, R"(, "access_log": ")" + log_path + "\""));
  {
    Socket client = Socket::connect(http.address());
    const int small = 4096;  // so that the file cannot all be in flight, whatever tcp_rmem says
    ::setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_TRUE(client.send_all(get("/big.bin?cut")));
    EXPECT_EQ(client.recv_exact(100000).size(), 100000u);
    client.abort();  // gone mid-body, with megabytes still to come
  }
  ASSERT_TRUE(http.wait_for_stat("responses_2xx", 1)) << http.stats().dump();
  EXPECT_EQ(http.stop(), 0);  // flushes the log
  const std::string log = read_file(log_path);
  const std::size_t at = log.find("\"GET /big.bin?cut HTTP/1.1\" 200 ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::uint64_t bytes = std::stoull(log.substr(at + 32));
  EXPECT_GT(bytes, 0u) << log;
  EXPECT_LT(bytes, big.size()) << "logged as sent whole: " << log;
}

// A small response waits in the output buffer for the connection's next flush; a client that
// resets before that flush got none of it, and its line must say so (body bytes 0), not show the
// file as sent. Which of the two comes first is a race (the reset goes out right behind the
// request), so the test takes many clients: each line must be whole or empty, and some empty.
TEST(HttpAccessLog, AResponseAClientResetBeforeItsFlushIsLoggedAsNotSent) {
  Site site;
  site.write("a.txt", "four");
  TempDir logs;
  const std::string log_path = logs.path("access.log");
  HttpDaemon http(http_config(site, R"(, "access_log": ")" + log_path + "\""));
  constexpr int kClients = 30;
  for (int i = 0; i < kClients; ++i) {
    Socket client = Socket::connect(http.address());
    ASSERT_TRUE(client.send_all(get("/a.txt?gone")));
    client.abort();
  }
  ASSERT_TRUE(http.wait_for_stat("responses_2xx", kClients)) << http.stats().dump();
  EXPECT_EQ(http.stop(), 0);  // flushes the log
  const std::string log = read_file(log_path);
  int whole = 0;
  int empty = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"GET /a.txt?gone HTTP/1.1\" 200 4 ") != std::string::npos) ++whole;
    if (line.find("\"GET /a.txt?gone HTTP/1.1\" 200 0 ") != std::string::npos) ++empty;
  }
  EXPECT_EQ(whole + empty, kClients) << log;
  EXPECT_GT(empty, 0) << "every response logged as sent, though the clients reset first:\n" << log;
}

// Each virtual host logs where its config says: a file of its own, the top level's (unset), or
// nowhere (""). Requests no host answers, malformed ones included, go to the top level's log;
// SIGHUP reopens every log.
TEST(HttpAccessLog, EachVirtualHostLogsToItsOwnFileOrTheTopLevels) {
  Site site;
  site.write("index.html", "default");
  TempDir logs;
  const std::string main_log = logs.path("main.log");
  const std::string a_log = logs.path("a.log");
  HttpDaemon http(http_config(site, R"(, "access_log": ")" + main_log + R"(",
      "virtual_hosts": [{"names": ["a.test"], "root": ")" +
                                        site.root() + R"(", "access_log": ")" + a_log + R"("},
                        {"names": ["b.test"], "root": ")" +
                                        site.root() + R"("},
                        {"names": ["c.test"], "root": ")" +
                                        site.root() + R"(", "access_log": ""}])"));
  auto get_host = [&](const std::string& host, const std::string& path) {
    return http_request(http.address(), "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
        .status;
  };
  EXPECT_EQ(get_host("a.test", "/?a1"), 200);
  EXPECT_EQ(get_host("b.test", "/?b1"), 200);
  EXPECT_EQ(get_host("c.test", "/?c1"), 200);
  EXPECT_EQ(get_host("unknown.test", "/?u1"), 200);
  EXPECT_EQ(get_host("a.test@bad", "/?bad-host"), 400);
  // Lines reach the file within a second (the workers' flush); rotate once a1's is there.
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (read_file(a_log).find("/?a1") == std::string::npos && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::filesystem::rename(a_log, a_log + ".1");
  http.process().signal(SIGHUP);
  ASSERT_TRUE(http.process().wait_for_log("reload:", kDeadline));
  EXPECT_EQ(get_host("a.test", "/?a2"), 200);
  EXPECT_EQ(http.stop(), 0);  // flushes every buffer
  const std::string main = read_file(main_log);
  const std::string a = read_file(a_log + ".1") + read_file(a_log);
  for (const char* line : {"/?b1", "/?u1", "/?bad-host"}) {
    EXPECT_NE(main.find(line), std::string::npos) << line << " not in the top level's log:\n"
                                                  << main;
  }
  for (const char* line : {"/?a1", "/?a2", "/?c1"}) {
    EXPECT_EQ(main.find(line), std::string::npos) << line << " in the top level's log";
  }
  EXPECT_NE(read_file(a_log + ".1").find("/?a1"), std::string::npos) << a;
  EXPECT_NE(read_file(a_log).find("/?a2"), std::string::npos) << "reopened on SIGHUP: " << a;
  EXPECT_EQ(a.find("/?b1"), std::string::npos) << a;
  EXPECT_EQ(a.find("/?c1"), std::string::npos) << a;

  // Only a virtual host logs: its lines have the client's address, and a request too large for
  // the server is logged by the host it named.
  const std::string only_log = logs.path("only.log");
  HttpDaemon only(http_config(site, R"(, "max_request_body": 10,
      "virtual_hosts": [{"names": ["a.test"], "root": ")" +
                                        site.root() + R"(", "access_log": ")" + only_log +
                                        R"("}])"));
  for (const char* host : {"a.test", "b.test"}) {
    EXPECT_EQ(http_request(only.address(),
                           "GET /?" + std::string(host) + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
                  .status,
              200);
  }
  EXPECT_EQ(http_request(only.address(),
                         "POST /?big HTTP/1.1\r\nHost: a.test\r\n"
                         "Content-Length: 11\r\n\r\n")
                .status,
            413);
  EXPECT_EQ(only.stop(), 0);
  const std::string lines = read_file(only_log);
  EXPECT_EQ(lines.rfind("127.0.0.1 - - [", 0), 0u) << lines;
  EXPECT_NE(lines.find("\"POST /?big HTTP/1.1\" 413 "), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"GET /?a.test HTTP/1.1\" 200 "), std::string::npos) << lines;
  EXPECT_EQ(lines.find("/?b.test"), std::string::npos) << lines;
}

// A listener with "proxy_protocol": the header's client goes to the access log; a connection
// without a valid header is closed unanswered; the header may arrive in pieces.
TEST(HttpProxyProtocol, TheHeadersClientIsLoggedAndOneWithoutAHeaderIsClosed) {
  Site site;
  site.write("a.txt", "aaaa");
  TempDir logs;
  const std::string log_path = logs.path("access.log");
  HttpDaemon http(R"({"listeners": [{"port": 0, "proxy_protocol": true}, {"port": 0}], "root": ")" +
                  site.root() + R"(", "access_log": ")" + log_path +
                  R"(", "request_timeout_ms": 60000,
                  "admin": {"listen": "127.0.0.1:0"}, "runtime": {"workers": 2}})");
  const std::string v1 = "PROXY TCP4 192.0.2.7 127.0.0.1 5555 80\r\n";
  EXPECT_EQ(http_request(http.address(0), v1 + get("/a.txt?v1")).body, "aaaa");
  const std::string v2 = std::string("\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24", 16) +
                         std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16) +
                         std::string(16, '\0') + std::string("\x12\x34\x00\x50", 4);
  EXPECT_EQ(http_request(http.address(0), v2 + get("/a.txt?v2")).body, "aaaa");
  const std::string local = std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  EXPECT_EQ(http_request(http.address(0), local + get("/a.txt?local")).body, "aaaa");
  {  // in pieces: the header split, then the request behind it
    Socket s = Socket::connect(http.address(0));
    ASSERT_TRUE(s.send_all(v1.substr(0, 9)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(s.send_all(v1.substr(9) + get("/a.txt?split")));
    EXPECT_EQ(read_http_reply(s).body, "aaaa");
  }
  // Refused at once (request_timeout is a minute): closed, nothing answered, each an error.
  for (const std::string& bad : {get("/a.txt?no-header"), std::string("PROXY TCP4 junk\r\n"),
                                 std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n")}) {
    Socket s = Socket::connect(http.address(0));
    ASSERT_TRUE(s.send_all(bad));
    const Socket::Drained got = s.recv_until_closed(std::chrono::seconds(2));
    EXPECT_TRUE(got.closed) << bad;
    EXPECT_EQ(got.data, "") << bad;
  }
  Socket::connect(http.address(0));  // a TCP probe: connects, closes -- not an error
  ASSERT_TRUE(http.wait_for_stat("connections_total", 8));
  EXPECT_EQ(http.stats().value("errors", 0), 3) << http.stats().dump();
  const HttpReply metrics = http_get(http.admin(), "/metrics");
  EXPECT_EQ(prometheus_text_problems(metrics.body), "") << metrics.body;
  // The other listener expects no header: a PROXY line there is a malformed request.
  EXPECT_EQ(http_request(http.address(1), get("/a.txt?plain")).body, "aaaa");
  EXPECT_EQ(http_request(http.address(1), v1 + get("/a.txt")).status, 400);
  EXPECT_EQ(http.stop(), 0);
  const std::string log = read_file(log_path);
  // Each request's line, by its target: it starts with the client the header named.
  auto line_of = [&log](const std::string& target) {
    const std::size_t at = log.find("GET /a.txt" + target + " HTTP/1.1\" 200 4 ");
    if (at == std::string::npos) return std::string();
    const std::size_t start = log.rfind('\n', at);
    return log.substr(start == std::string::npos ? 0 : start + 1, at - start);
  };
  EXPECT_EQ(line_of("?v1").rfind("192.0.2.7 - - [", 0), 0u) << log;
  EXPECT_EQ(line_of("?v2").rfind("2001:db8::9 - - [", 0), 0u) << log;
  EXPECT_EQ(line_of("?local").rfind("127.0.0.1 - - [", 0), 0u) << log;  // LOCAL: the socket's
  EXPECT_EQ(line_of("?split").rfind("192.0.2.7 - - [", 0), 0u) << log;
  EXPECT_EQ(line_of("?plain").rfind("127.0.0.1 - - [", 0), 0u) << log;
  EXPECT_EQ(log.find("?no-header"), std::string::npos) << log;
}

TEST(HttpHeaders, ConfiguredHeadersAndPrecompressedFilesReachTheClient) {
  Site site;
  site.write("app.js", "console.log(1)");
  site.write("app.js.gz", "pretend-gzip-bytes");
  HttpDaemon http(http_config(
      site, R"(, "gzip_static": true, "headers": {"Cache-Control": "public, max-age=600"})"));
  const HttpReply gz =
      http_request(http.address(), get("/app.js", "Accept-Encoding: gzip, deflate\r\n"));
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.body, "pretend-gzip-bytes");
  EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(gz.header("Cache-Control"), "public, max-age=600");
  const HttpReply plain = http_request(http.address(), get("/app.js"));
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  EXPECT_EQ(http_request(http.address(), get("/missing")).header("Cache-Control"), "");
}

TEST(HttpConfig, BadValuesExitNonZeroNamingTheirPathAndTheExampleChecks) {
  Site site;
  TempDir dir;
  struct Bad {
    std::string config;
    std::string message;
  };
  const Bad cases[] = {
      {R"({"root": "/nonexistent/zap"})", "root: cannot use \"/nonexistent/zap\""},
      {R"({"root": ")" + site.write("file", "x") + R"("})", "is not a directory"},
      {R"({"index": ["../x"]})", "index[0]: expected a file name"},
      {R"({"keepalive_timeout_ms": -1})", "keepalive_timeout_ms: expected integer"},
      {R"({"file_cache": {"validity": 5}})", "file_cache.validity: unknown key"},
      {R"({"mime_types": {"md": 5}})", "mime_types.md: expected string"},
      {R"({"access_log": "/nonexistent/zap/access.log"})", "access_log: cannot open"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": ".",
          "access_log": "/nonexistent/zap/a.log"}]})",
       "virtual_hosts[0].access_log: cannot open"},
      {R"({"headers": {"Content-Length": "5"}})", "headers.Content-Length: is set by zap-http"},
      {R"({"headers": {"Bad Name": "x"}})", "headers.Bad Name: expected a header field name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"]}]})",
       "virtual_hosts[0].root: required"},
      {R"({"root": ".", "virtual_hosts": [{"root": "."}]})", "virtual_hosts[0].names: required"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a b"], "root": "."}]})",
       "virtual_hosts[0].names[0]: expected a host name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": "."},
                             {"names": ["x.test", "A.test"], "root": "."}]})",
       "virtual_hosts[1].names[1]: \"a.test\" is named twice"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": "/nonexistent/zap"}]})",
       "virtual_hosts[0].root: cannot use"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": ".", "index": ["../x"]}]})",
       "virtual_hosts[0].index[0]: expected a file name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": ".", "rot": 1}]})",
       "virtual_hosts[0].rot: unknown key"},
      {R"({"virtual_hosts": [{"names": ["a.test"], "root": "."}]})",
       "root: required with virtual_hosts"},
      {R"({"unknown_hosts": "refuse"})", "unknown_hosts: \"refuse\" needs virtual_hosts"},
      {R"({"root": ".", "unknown_hosts": "drop",
          "virtual_hosts": [{"names": ["a.test"], "root": "."}]})",
       "unknown_hosts: expected one of"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["*"], "root": "."}]})",
       "virtual_hosts[0].names[0]: expected a host name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.*.b"], "root": "."}]})",
       "virtual_hosts[0].names[0]: expected a host name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test:80"], "root": "."}]})",
       "virtual_hosts[0].names[0]: expected a host name"},
      {R"({"root": ".", "virtual_hosts": [{"names": ["a.test"], "root": ""}]})",
       "virtual_hosts[0].root: expected a directory"},
  };
  for (const Bad& c : cases) {
    const RunResult r =
        run_to_exit(http_binary(), {"--config", dir.write("c.json", c.config), "--check"});
    EXPECT_NE(r.code, 0) << c.config;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.config << " -> " << r.err;
  }
  const RunResult example =
      run_to_exit(http_binary(), {"--config", configs_dir() + "/http.json", "--check"});
  EXPECT_EQ(example.code, 0) << example.err;
  const RunResult help = run_to_exit(http_binary(), {"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--root"), std::string::npos);
}

}  // namespace
}  // namespace zap::e2e
