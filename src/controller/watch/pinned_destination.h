// An httplib client connected to the address a destination guard checked, not to whatever
// the name resolves to when the client dials (which could differ: DNS rebinding).
#pragma once

#include <httplib.h>

#include <string>

#include "controller/policy/destination_guard.h"

namespace faultline::controller {

// "" when `client` (made for `origin`) may go ahead (pinned where it was checked), else why not.
inline std::string pin_destination(httplib::Client& client, const std::string& origin,
                                   const DestinationGuard* destinations) {
  if (!destinations || !destinations->restricts()) return "";
  std::string host = host_of_url(origin);
  auto address = destinations->pin(host);
  if (!address) return "refused: " + address.error().message;
  if (*address != host) client.set_hostname_addr_map({{host, *address}});
  return "";
}

}  // namespace faultline::controller
