// A file holding a secret (API tokens) is refused when others can read it: a token anyone on
// the machine can read is no proof of who calls.
#pragma once

#include <string>

#include "common/result.h"

namespace faultline {

// Refused when `path` can be read or written by others, or by its group unless that group is
// this process's own (a Kubernetes secret volume with fsGroup gives exactly that). The error
// says which chmod fixes it.
Status check_secret_file(const std::string& path, const std::string& what);

}  // namespace faultline
