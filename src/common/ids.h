#pragma once

#include <string>

namespace faultline {

// A short random id ("r-3f9a1c2b7d") that is unique enough for runs, faults and commands
// on one controller, and short enough to type into `faultline abort`.
std::string new_id(const std::string& prefix);

// An id a user typed is used as a file name (run files, stored journals): refuse anything that
// could walk out of the directory.
inline bool is_safe_id(const std::string& id) {
  return !id.empty() && id[0] != '.' && id.find('/') == std::string::npos;
}

// This machine's host name: the default node name of an injector.
std::string host_name();

}  // namespace faultline
