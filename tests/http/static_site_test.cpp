#include "static_site.hpp"

#include "multipart.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ctime>
#include <optional>

#include "http_date.hpp"
#include "site_fixture.hpp"

namespace zap::http {
namespace {

class StaticSiteTest : public ::testing::Test {
 protected:
  StaticSiteTest() {
    site_.write("index.html", "<h1>home</h1>");
    site_.write("docs/index.html", "<h1>docs</h1>");
    site_.write("docs/guide.txt", "0123456789");
    site_.mkdir("empty");
    site_.set_mtime("docs/guide.txt", 784111777);
  }

  // Parses `request` and asks the site; the Response is kept in response_.
  const Response& ask(const std::string& request) {
    request_ = request;
    const ParseOutcome outcome = parse_request_head(request_, {}, head_);
    EXPECT_EQ(outcome.state, ParseOutcome::kComplete) << outcome.reason;
    site.respond(head_, 0, scratch_, response_);
    return response_;
  }
  const Response& get(const std::string& target, const std::string& fields = "") {
    return ask("GET " + target + " HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
  }

  SiteDir site_;
  MimeTypes types_;
  FileCache cache_{site_.fd(), types_, {}};
  StaticSite site{cache_, {}};
  std::string request_;
  RequestHead head_;
  RequestScratch scratch_;
  Response response_;
};

TEST_F(StaticSiteTest, ServesAFileWithValidators) {
  const Response& r = get("/docs/guide.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_EQ(r.length, 10u);
  EXPECT_TRUE(r.validators);
  EXPECT_TRUE(r.send_body);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
}

TEST_F(StaticSiteTest, HeadHasTheLengthButNoBody) {
  const Response& r = ask("HEAD /docs/guide.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.length, 10u);
  EXPECT_FALSE(r.send_body);
  EXPECT_EQ(r.wire_body_length(), 0u);
}

TEST_F(StaticSiteTest, DirectoriesRedirectToTheirSlashThenServeTheirIndex) {
  const Response& redirect = get("/docs?x=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.location, "/docs/?x=1");
  EXPECT_EQ(get("/docs/").body, "<h1>docs</h1>");
  EXPECT_EQ(get("/").body, "<h1>home</h1>");
  EXPECT_EQ(get("/empty/").status, 403) << "no index, no listing";
}

TEST_F(StaticSiteTest, ARedirectLocationIsPercentEncoded) {
  site_.mkdir("we ird\r\ndir");
  const Response& r = get("/we%20ird%0D%0Adir");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, "/we%20ird%0D%0Adir/");
}

TEST_F(StaticSiteTest, ErrorsMapToTheirStatuses) {
  EXPECT_EQ(get("/nope.html").status, 404);
  EXPECT_EQ(get("/docs/guide.txt/").status, 404);
  EXPECT_EQ(get("/../etc/passwd").status, 400);
  EXPECT_EQ(get("/%00").status, 400);
  EXPECT_EQ(get("/" + std::string(5000, 'x')).status, 404) << "no file has so long a name";
  {  // a Unix socket in the root: open() says ENXIO
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = site_.path("app.sock");
    ASSERT_LT(path.size(), sizeof(address.sun_path));
    path.copy(address.sun_path, path.size());
    ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(get("/app.sock").status, 403);
    ::close(listener);
  }
  site_.write("private.txt", "no");
  ::chmod(site_.path("private.txt").c_str(), 0);
  if (::geteuid() != 0) {  // root reads anything
    EXPECT_EQ(get("/private.txt").status, 403);
  }
  const Response& missing = get("/nope.html");
  EXPECT_EQ(missing.content_type, "text/html; charset=utf-8");
  EXPECT_NE(missing.body.find("404 Not Found"), std::string_view::npos);
  EXPECT_EQ(missing.length, missing.body.size());
}

TEST_F(StaticSiteTest, OtherMethodsAre405WithAllowAndOptionsIs204) {
  const Response& post = ask("POST /index.html HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_TRUE(post.allow);
  const Response& options = ask("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(options.status, 204);
  EXPECT_TRUE(options.allow);
  EXPECT_FALSE(options.send_body);
}

TEST_F(StaticSiteTest, ConditionalRequestsGet304) {
  const std::string etag(get("/docs/guide.txt").file->etag());
  EXPECT_EQ(get("/docs/guide.txt", "If-None-Match: " + etag + "\r\n").status, 304);
  EXPECT_EQ(get("/docs/guide.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n").status,
            304);
  const Response& changed = get("/docs/guide.txt", "If-None-Match: \"other\"\r\n");
  EXPECT_EQ(changed.status, 200);
  const Response& not_modified = get("/docs/guide.txt", "If-None-Match: " + etag + "\r\n");
  EXPECT_FALSE(not_modified.send_body);
  EXPECT_TRUE(not_modified.validators);
}

TEST_F(StaticSiteTest, AFailedPreconditionGets412) {
  const std::string etag(get("/docs/guide.txt").file->etag());
  EXPECT_EQ(get("/docs/guide.txt", "If-Match: " + etag + "\r\n").status, 200);
  EXPECT_EQ(get("/docs/guide.txt", "If-Match: \"other\"\r\n").status, 412);
  EXPECT_EQ(get("/docs/guide.txt", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n").status,
            412);
  EXPECT_EQ(get("/docs/guide.txt", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n").status,
            200);
  // Before If-None-Match (RFC 9110 13.2.2): a failed precondition is not a 304.
  EXPECT_EQ(get("/docs/guide.txt", "If-Match: \"other\"\r\nIf-None-Match: " + etag + "\r\n").status,
            412);
}

TEST_F(StaticSiteTest, AFileDatedInTheFutureIsLastModifiedNow) {
  site_.write("future.txt", "later");
  site_.set_mtime("future.txt", 4'102'444'800);  // 2100-01-01
  const Response& r = get("/future.txt");
  ASSERT_EQ(r.status, 200);
  const std::optional<std::int64_t> date = parse_http_date(r.file->last_modified());
  ASSERT_TRUE(date.has_value()) << r.file->last_modified();
  const std::int64_t now = ::time(nullptr);
  EXPECT_LE(*date, now) << "Last-Modified later than Date (RFC 9110 8.8.2.1)";
  EXPECT_GT(*date, now - 60);
  // The date the client was given is the one its conditions are compared with.
  const std::string given(r.file->last_modified());
  EXPECT_EQ(get("/future.txt", "If-Unmodified-Since: " + given + "\r\n").status, 200);
  EXPECT_EQ(get("/future.txt", "Range: bytes=0-1\r\nIf-Range: " + given + "\r\n").status, 206);
}

TEST_F(StaticSiteTest, RangesGive206Or416AndIfRangeGuardsThem) {
  const Response& part = get("/docs/guide.txt", "Range: bytes=2-4\r\n");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "234");
  EXPECT_TRUE(part.content_range);
  EXPECT_EQ(part.total_size, 10u);
  EXPECT_EQ(get("/docs/guide.txt", "Range: bytes=-3\r\n").body, "789");
  const Response& past = get("/docs/guide.txt", "Range: bytes=10-\r\n");
  EXPECT_EQ(past.status, 416);
  EXPECT_TRUE(past.content_range);
  EXPECT_EQ(past.total_size, 10u);
  const Response& several = get("/docs/guide.txt", "Range: bytes=0-1,4-5\r\n");
  EXPECT_EQ(several.status, 206);
  EXPECT_EQ(several.parts.count, 2u);
  EXPECT_FALSE(several.content_range) << "each part has its own";
  EXPECT_EQ(several.multipart.type().rfind("multipart/byteranges; boundary=", 0), 0u);
  EXPECT_EQ(several.content_type, "text/plain; charset=utf-8") << "each part's";
  EXPECT_EQ(several.body, "0123456789") << "the parts are cut from the whole body";
  EXPECT_EQ(several.length, multipart_length(several.content_type, several.parts, 10));
  EXPECT_EQ(get("/docs/guide.txt", "Range: bytes=4-5,0-1\r\n").status, 200) << "descending";
  EXPECT_EQ(get("/docs/guide.txt", "Range: bytes=2-4\r\nIf-Range: \"stale\"\r\n").status, 200);
  const std::string etag(get("/docs/guide.txt").file->etag());
  EXPECT_EQ(get("/docs/guide.txt", "Range: bytes=2-4\r\nIf-Range: " + etag + "\r\n").status, 206);
  const Response& head =
      ask("HEAD /docs/guide.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=2-4\r\n\r\n");
  EXPECT_EQ(head.status, 200) << "Range is defined for GET only";
}

TEST_F(StaticSiteTest, LargeFilesAreServedFromTheirDescriptor) {
  site_.write("big.bin", std::string(300 << 10, 'b'));
  const Response& r = get("/big.bin", "Range: bytes=100-199\r\n");
  EXPECT_EQ(r.status, 206);
  EXPECT_TRUE(r.body.empty());
  EXPECT_GE(r.body_fd, 0);
  EXPECT_EQ(r.offset, 100u);
  EXPECT_EQ(r.length, 100u);
  EXPECT_EQ(r.content_type, "application/octet-stream");
}

TEST(Autoindex, ListsADirectoryWithoutAnIndexSafely) {
  SiteDir dir;
  dir.write("pub/b.txt", "12345");
  dir.write("pub/a <b>&\".txt", "x");
  dir.write("pub/javascript:alert(1)", "x");
  dir.write("pub/.hidden", "secret");
  dir.mkdir("pub/sub");
  MimeTypes types;
  FileCache cache(dir.fd(), types, {});
  StaticSite listing(cache, {.autoindex = true});
  StaticSite closed(cache, {});
  RequestScratch scratch;
  RequestHead head;
  ASSERT_EQ(parse_request_head("GET /pub/ HTTP/1.1\r\nHost: h\r\n\r\n", {}, head).state,
            ParseOutcome::kComplete);
  Response response;
  closed.respond(head, 0, scratch, response);
  EXPECT_EQ(response.status, 403) << "off by default";
  listing.respond(head, 0, scratch, response);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
  const std::string page(response.body);
  EXPECT_EQ(response.length, page.size());
  EXPECT_NE(page.find("<title>Index of /pub/</title>"), std::string::npos) << page;
  EXPECT_NE(page.find("<a href=\"./sub/\">sub/</a>"), std::string::npos) << page;
  EXPECT_LT(page.find("sub/"), page.find("b.txt")) << "directories first";
  EXPECT_NE(page.find("<a href=\"./b.txt\">b.txt</a></td><td>"), std::string::npos) << page;
  EXPECT_NE(page.find("<td>5</td>"), std::string::npos) << "the size";
  EXPECT_NE(page.find("href=\"./a%20%3Cb%3E&amp;%22.txt\">a &lt;b&gt;&amp;&quot;.txt</a>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("href=\"./javascript:alert(1)\""), std::string::npos) << "stays relative";
  EXPECT_EQ(page.find("hidden"), std::string::npos) << "dot files are not listed";
  EXPECT_NE(page.find("<a href=\"../\">../</a>"), std::string::npos);
}

TEST(AcceptsGzip, FollowsCodingsAndQValues) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5, br"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0")) << "an explicit refusal beats the wildcard";
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  FieldLines two_lines;
  two_lines.add("br");
  two_lines.add("gzip");
  EXPECT_TRUE(accepts_gzip(two_lines)) << "a list split over two lines";
  FieldLines refused;
  refused.add("*");
  refused.add("gzip;q=0");
  EXPECT_FALSE(accepts_gzip(refused)) << "a refusal on a later line still beats the wildcard";
}

TEST(GzipStatic, ThePrecompressedVariantGoesToClientsThatAcceptIt) {
  SiteDir dir;
  dir.write("app.js", "plain");
  dir.write("app.js.gz", "GZIPPED");
  dir.write("other.css", "no variant");
  MimeTypes types;
  FileCache cache(dir.fd(), types, {});
  StaticSite site(cache, {.gzip_static = true});
  RequestScratch scratch;
  auto ask = [&](const std::string& request) {
    RequestHead head;
    EXPECT_EQ(parse_request_head(request, {}, head).state, ParseOutcome::kComplete);
    Response response;
    site.respond(head, 0, scratch, response);
    return response;
  };
  const Response gz = ask("GET /app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br\r\n\r\n");
  EXPECT_EQ(gz.body, "GZIPPED");
  EXPECT_EQ(gz.content_encoding, "gzip");
  EXPECT_EQ(gz.content_type, "text/javascript; charset=utf-8") << "the original's type";
  EXPECT_TRUE(gz.vary_encoding);
  const Response plain = ask("GET /app.js HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(plain.body, "plain");
  EXPECT_TRUE(plain.content_encoding.empty());
  EXPECT_TRUE(plain.vary_encoding) << "caches must know the response varies";
  EXPECT_NE(plain.file->etag(), gz.file->etag());
  const Response none = ask("GET /other.css HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(none.body, "no variant");
  EXPECT_FALSE(none.vary_encoding);
  StaticSite off(cache, {});
  RequestHead head;
  parse_request_head("GET /app.js HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n", {}, head);
  Response response;
  off.respond(head, 0, scratch, response);
  EXPECT_EQ(response.body, "plain") << "gzip_static is off by default";
}

TEST(ResponseHead, ConfiguredHeadersGoOnSuccessesAndRedirectsOnly) {
  char out[kMaxResponseHead];
  Response ok;
  ok.status = 200;
  const std::string extra = "Cache-Control: max-age=60\r\nX-Frame-Options: DENY\r\n";
  const std::string head(
      out, write_response_head(ok, {.date = "d", .extra_headers = extra}, out, sizeof out));
  EXPECT_NE(head.find("\r\nCache-Control: max-age=60\r\nX-Frame-Options: DENY\r\n"),
            std::string::npos)
      << head;
  Response missing;
  error_response(404, missing);
  const std::string error_head(
      out, write_response_head(missing, {.date = "d", .extra_headers = extra}, out, sizeof out));
  EXPECT_EQ(error_head.find("Cache-Control"), std::string::npos) << error_head;
}

TEST(ResponseHead, WritesStatusLineFieldsAndConnectionHandling) {
  Response r;
  error_response(405, r);
  char out[kMaxResponseHead];
  const std::size_t n = write_response_head(
      r, {.date = "Sun, 06 Nov 1994 08:49:37 GMT", .keep_alive = true, .http10 = true}, out,
      sizeof out);
  const std::string head(out, n);
  EXPECT_EQ(head.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nAllow: GET, HEAD, OPTIONS\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  r.close = true;
  const std::string closing(out, write_response_head(r, {.date = "d"}, out, sizeof out));
  EXPECT_NE(closing.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(write_response_head(r, {.date = "d"}, out, 10), 0u) << "too small is reported";
}

TEST(ResponseHead, NotModifiedCarriesValidatorsButNoLength) {
  SiteDir site;
  site.write("f", "x");
  MimeTypes types;
  FileCache cache(site.fd(), types, {});
  std::error_code ec;
  Response r;
  r.status = 304;
  r.validators = true;
  r.file = cache.open("/f", 0, ec);
  char out[kMaxResponseHead];
  const std::string head(out, write_response_head(r, {.date = "d"}, out, sizeof out));
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nETag: \""), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nLast-Modified: "), std::string::npos) << head;
}

}  // namespace
}  // namespace zap::http
