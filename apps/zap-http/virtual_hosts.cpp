#include "virtual_hosts.hpp"

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
    for (const std::string& name : virtual_hosts[i].names) names_.add(name, i + 1);
  }
}

std::size_t VirtualHosts::site_for(std::string_view host) const {
  return names_.empty() ? 0 : names_.find(host_name(host), 0);
}

}  // namespace zap::http
