#include "connection_log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace zap::proxy {
namespace {

class ScratchLog {
 public:
  ScratchLog() {
    char templ[] = "/tmp/zap-connection-log-XXXXXX";
    root_ = ::mkdtemp(templ);
  }
  ~ScratchLog() { std::filesystem::remove_all(root_); }
  std::string path() const { return root_ + "/connections.log"; }
  std::string text() const {
    std::ifstream in(path());
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  std::string root_;
};

zio::SocketAddress address(const char* text) {
  std::error_code ec;
  const zio::SocketAddress a = zio::SocketAddress::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return a;
}

TEST(ConnectionLog, ALineSaysWhoWhereHowLongHowMuchAndHowItEnded) {
  ScratchLog scratch;
  app::LogFile file(scratch.path(), "connection_log");
  const std::string pool = "web";
  const std::string backend = "10.0.0.2:8080";
  {
    ConnectionLog log(file);
    ConnectionRecord relayed;
    relayed.client = address("192.0.2.7:5555");
    relayed.local = address("[::1]:9000");
    relayed.accepted = timespec{1'796'390'400, 123'456'789};
    relayed.accepted_ns = 1'000'000'000;
    relayed.routed_ns = 1'002'500'000;     // 2.5 ms reading the ClientHello
    relayed.picked_ns = 1'006'500'000;     // 4 ms in the pool's queue
    relayed.connected_ns = 1'007'600'000;  // 1.1 ms connecting
    relayed.pool = &pool;
    relayed.backend = &backend;
    relayed.server_name = "a.test";
    relayed.bytes_up = 212;
    relayed.bytes_down = 1780;
    relayed.end = ConnectionEnd::kDone;
    log.append(relayed, 6'007'000'000);

    ConnectionRecord refused;  // nothing known but the client and when
    refused.client = address("127.0.0.1:40000");
    refused.accepted = timespec{1'796'390'401, 0};
    refused.accepted_ns = 0;
    refused.server_name = "evil\n\"name";  // from a client: escaped
    refused.end = ConnectionEnd::kBadProxyHeader;
    log.append(refused, 3'000'000);
  }  // flushed by the buffer's destructor
  EXPECT_EQ(
      scratch.text(),
      "192.0.2.7:5555 [04/Dec/2026:13:20:00.123 +0000] [::1]:9000 web 10.0.0.2:8080 a.test "
      "2/4/1/5007 212 1780 done\n"
      "127.0.0.1:40000 [04/Dec/2026:13:20:01.000 +0000] - - - evil\\x0A\\x22name -1/-1/-1/3 0 "
      "0 "
      "bad_proxy_header\n");
}

TEST(ConnectionLog, EveryEndHasAName) {
  for (const ConnectionEnd end :
       {ConnectionEnd::kDone, ConnectionEnd::kIdleTimeout, ConnectionEnd::kClientError,
        ConnectionEnd::kBackendError, ConnectionEnd::kNoBackend, ConnectionEnd::kQueueTimeout,
        ConnectionEnd::kQueueFull, ConnectionEnd::kBadProxyHeader, ConnectionEnd::kClientLeft,
        ConnectionEnd::kNoMemory, ConnectionEnd::kShutdown, ConnectionEnd::kRefused}) {
    const std::string name = to_string(end);
    EXPECT_NE(name, "?");
    EXPECT_EQ(name.find(' '), std::string::npos) << "one field";
  }
}

}  // namespace
}  // namespace zap::proxy
