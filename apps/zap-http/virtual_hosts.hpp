// VirtualHosts: which site answers a request, by its Host field (nginx's server_name).
//
//   VirtualHosts hosts(settings.virtual_hosts);
//   std::size_t site = hosts.site_for(head.host);   // 0: the default site; i + 1: virtual_hosts[i]
//
// The Host value is compared without its port and trailing dot, case-insensitively, as nginx
// does: an exact name ("example.com") first, else the longest wildcard ("*.example.com": any name
// that ends in ".example.com") that matches. No match (an unknown name, an IP address, no Host at
// all in HTTP/1.0): the default site. A linear scan without allocation: meant for tens of hosts, as
// a static server has, not for thousands. Thread-safety: immutable after construction; site_for()
// from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http_settings.hpp"
#include "server_names.hpp"

namespace zap::http {

class VirtualHosts {
 public:
  explicit VirtualHosts(const std::vector<SiteSettings>& virtual_hosts);

  std::size_t site_for(std::string_view host) const;

 private:
  app::ServerNames names_;  // each name -> its site's index
};

}  // namespace zap::http
