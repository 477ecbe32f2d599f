#include "mime_types.hpp"

#include <gtest/gtest.h>

namespace zap::http {
namespace {

TEST(MimeTypes, LooksUpTheLastSegmentsExtensionWithoutCase) {
  MimeTypes types;
  EXPECT_EQ(types.lookup("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(types.lookup("/A/B.PNG"), "image/png");
  EXPECT_EQ(types.lookup("/app.v2.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(types.lookup("/dir.html/file"), "application/octet-stream");
  EXPECT_EQ(types.lookup("/trailing."), "application/octet-stream");
  EXPECT_EQ(types.lookup("/x." + std::string(40, 'a')), "application/octet-stream");
}

TEST(MimeTypes, ConfigAddsOverridesAndSetsTheDefault) {
  MimeTypes types;
  types.set("MD", "text/x-markdown");
  types.set("foo", "application/x-foo");
  types.set_default("text/plain");
  EXPECT_EQ(types.lookup("/readme.md"), "text/x-markdown");
  EXPECT_EQ(types.lookup("/a.foo"), "application/x-foo");
  EXPECT_EQ(types.lookup("/Makefile"), "text/plain");
}

}  // namespace
}  // namespace zap::http
