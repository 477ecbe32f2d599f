#include "access_log.hpp"

#include <ctime>
#include <string>

namespace zap::http {

void AccessLogBuffer::append(const AccessRecord& r) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);  // vDSO; a second's precision is the format's
  std::string& line = buffer_.begin_line();
  line.append(r.client.empty() ? std::string_view("-") : r.client);
  line += " - - ";
  time_.append(line, now, false);
  line += " \"";
  app::append_log_text(line, r.request_line);
  line += "\" ";
  app::append_log_number(line, static_cast<std::uint64_t>(r.status));
  line.push_back(' ');
  app::append_log_number(line, r.body_bytes);
  line += " \"";
  app::append_log_text(line, r.referer);
  line += "\" \"";
  app::append_log_text(line, r.user_agent);
  line += "\"\n";
  buffer_.end_line();
}

}  // namespace zap::http
