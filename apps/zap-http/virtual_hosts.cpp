#include "virtual_hosts.hpp"

#include "ascii.hpp"

namespace zap::http {

namespace {

// "Example.COM:8080" -> "Example.COM"; "example.com." -> "example.com"; "[::1]:80" stays (it
// names no host, and matches nothing).
std::string_view host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host;
  if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

}  // namespace

VirtualHosts::VirtualHosts(const std::vector<SiteSettings>& virtual_hosts) {
  for (std::size_t i = 0; i < virtual_hosts.size(); ++i) {
    for (const std::string& name : virtual_hosts[i].names) {
      const bool wildcard = name.rfind("*.", 0) == 0;
      names_.push_back({wildcard ? name.substr(1) : name, wildcard, i + 1});
    }
  }
}

std::size_t VirtualHosts::site_for(std::string_view host) const {
  if (names_.empty()) return 0;
  const std::string_view name = host_name(host);
  std::size_t best = 0;
  std::size_t best_length = 0;
  for (const Name& candidate : names_) {
    if (!candidate.wildcard) {
      if (equals_ignore_case(name, candidate.text)) return candidate.site;  // exact wins
    } else if (name.size() > candidate.text.size() && candidate.text.size() > best_length &&
               equals_ignore_case(name.substr(name.size() - candidate.text.size()),
                                  candidate.text)) {
      best = candidate.site;
      best_length = candidate.text.size();
    }
  }
  return best;
}

}  // namespace zap::http
