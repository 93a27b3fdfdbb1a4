// Interface up/down through rtnetlink (libnl-route), inside a network namespace.
#pragma once

#include <string>

#include "common/result.h"

namespace faultline::injector {

// Whether the interface is administratively up.
Result<bool> link_is_up(const std::string& netns, const std::string& ifname);
Status set_link_up(const std::string& netns, const std::string& ifname, bool up);

}  // namespace faultline::injector
