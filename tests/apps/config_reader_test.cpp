#include "config_reader.hpp"

#include <gtest/gtest.h>

#include "config_error.hpp"
#include "daemon_settings.hpp"

namespace zap::app {
namespace {

TEST(JsonReader, ReadsTypedValuesAndDefaults) {
  auto json = parse_json_text(R"({"port": 80, "name": "a", "on": true})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(root.integer("port", 1, 65535, 7), 80);
  EXPECT_EQ(root.integer("missing", 1, 65535, 7), 7);
  EXPECT_EQ(root.string("name", "x"), "a");
  EXPECT_TRUE(root.boolean("on", false));
  root.finish();
}

TEST(JsonReader, WrongTypeNamesTheJsonPath) {
  auto json = parse_json_text(R"({"listeners": [{"port": 1}, {"port": "80a"}]})", "test");
  JsonReader root(json, "");
  auto listeners = root.array("listeners");
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[0].integer("port", 1, 65535, 0), 1);
  EXPECT_EQ(error_of([&] { listeners[1].integer("port", 1, 65535, 0); }),
            "listeners[1].port: expected integer 1-65535, got \"80a\"");
}

TEST(JsonReader, OutOfRangeIsAnError) {
  auto json = parse_json_text(R"({"port": 70000})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(error_of([&] { root.integer("port", 1, 65535, 0); }),
            "port: expected integer 1-65535, got 70000");
}

TEST(JsonReader, UnknownKeyIsAnError) {
  auto json = parse_json_text(R"({"log": {"levle": "debug"}})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(error_of([&] { read_daemon_settings(root, ""); }), "log.levle: unknown key");
}

TEST(JsonReader, ChoiceListsTheAlternatives) {
  auto json = parse_json_text(R"({"runtime": {"io_backend": "kqueue"}})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(
      error_of([&] { read_daemon_settings(root, ""); }),
      "runtime.io_backend: expected one of \"auto\", \"io_uring\", \"epoll\", got \"kqueue\"");
}

TEST(JsonReader, SyntaxErrorNamesLineAndColumn) {
  const auto message = error_of([] { parse_json_text("{\n  \"a\": 1,\n  \"b\" 2\n}", "x.json"); });
  EXPECT_EQ(message.rfind("x.json:3:", 0), 0u) << message;
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
}

TEST(JsonReader, RootMustBeAnObject) {
  auto json = parse_json_text("[1, 2]", "test");
  EXPECT_EQ(error_of([&] { JsonReader root(json, ""); }), "config: expected object, got [1,2]");
}

TEST(JsonReader, AKeyGivenTwiceIsRefusedWithItsPath) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": 1, "a": 2})", "c.json"); }),
            "a: given twice (JSON keeps only the last)");
  EXPECT_EQ(error_of([] {
              parse_json_text(R"({"x": [1, {"b": {"c": 1}}, [], {"d": 1, "d": 1}]})", "c.json");
            }),
            "x[3].d: given twice (JSON keeps only the last)");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": {"k": 1}, "b": {"k": 1}})", "c.json"); }),
            "(no error)")
      << "the same key in two objects is fine";
}

TEST(JsonReader, MissingFileIsAClearError) {
  EXPECT_EQ(error_of([] { load_json_file("/nonexistent/zap.json"); }),
            "/nonexistent/zap.json: cannot open config file: No such file or directory");
}

// Memory grew with the square of the depth (every open level held its whole path), and the
// error's description of the value recursed as deep: 20 000 levels of a 40 KB file took 780 MB.
TEST(JsonReader, NestingDeeperThanTheLimitIsRefusedWithItsPath) {
  const int levels = kMaxConfigDepth - 1;  // arrays inside the root object
  EXPECT_NO_THROW(parse_json_text(
      R"({"a": )" + std::string(levels, '[') + std::string(levels, ']') + "}", "test"));
  const std::string deep = std::string(20'000, '[') + std::string(20'000, ']');
  std::string path = "a";
  for (int i = 1; i < kMaxConfigDepth; ++i) path += "[0]";
  EXPECT_EQ(error_of([&] { parse_json_text(R"({"a": )" + deep + "}", "test"); }),
            path + ": nested deeper than " + std::to_string(kMaxConfigDepth) + " levels");
}

TEST(JsonReader, ANumberTooLargeIsAConfigErrorNamingTheFile) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"max_connections": 1e400})", "echo.json"); }),
            "echo.json: invalid JSON: number overflow parsing '1e400'");
}

TEST(JsonReader, ErrorsStayOneShortLine) {
  auto json = parse_json_text(
      R"({"a\nb": 1, "s": "x\ny", "long": ")" + std::string(5000, 'v') + R"("})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(error_of([&] { root.integer("s", 1, 2, 1); }),
            "s: expected integer 1-2, got \"x\\ny\"");
  const std::string long_value = error_of([&] { root.integer("long", 1, 2, 1); });
  EXPECT_LT(long_value.size(), 150u) << long_value;
  EXPECT_EQ(error_of([&] { root.finish(); }).find('\n'), std::string::npos);
  EXPECT_EQ(ConfigError(std::string(5000, 'k')).what(),
            std::string(kMaxConfigErrorLength, 'k') + "...");
  EXPECT_STREQ(ConfigError(std::string("a\x01"
                                       "b"))
                   .what(),
               "a\\x01b");
}

TEST(DaemonSettings, ARelativeLogFileIsInTheConfigsFolder) {
  auto json = parse_json_text(R"({"log": {"file": "zap.log"}})", "test");
  JsonReader root(json, "");
  EXPECT_EQ(read_daemon_settings(root, "/etc/zap").log.file, "/etc/zap/zap.log");
  auto absolute = parse_json_text(R"({"log": {"file": "/var/log/zap.log"}})", "test");
  JsonReader root2(absolute, "");
  EXPECT_EQ(read_daemon_settings(root2, "/etc/zap").log.file, "/var/log/zap.log");
}

TEST(DaemonSettings, DefaultsWhenEmpty) {
  auto json = parse_json_text("{}", "test");
  JsonReader root(json, "");
  const auto settings = read_daemon_settings(root, "");
  root.finish();
  EXPECT_EQ(settings.runtime.workers, 0);
  EXPECT_EQ(settings.runtime.io_backend, "auto");
  EXPECT_EQ(settings.log.level, "info");
  EXPECT_EQ(settings.shutdown_grace_ms, 5000);
  EXPECT_FALSE(settings.admin_listen.has_value());
}

}  // namespace
}  // namespace zap::app
