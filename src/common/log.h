// Structured logging: every line is "msg key=value ...", so logs grep and parse alike.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace faultline {

// Sends logs to stderr at the given level ("trace".."off"); `json` switches to one JSON
// object per line for log shippers.
void init_logging(const std::string& level, bool json = false);

}  // namespace faultline
