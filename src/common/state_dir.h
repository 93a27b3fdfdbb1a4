#pragma once

#include <cstdlib>
#include <string>

namespace faultline {

// Where faultline keeps what must survive a crash (ledger, runs); FAULTLINE_STATE_DIR moves it.
inline std::string state_dir() {
  const char* dir = std::getenv("FAULTLINE_STATE_DIR");
  return dir && *dir ? dir : "/var/lib/faultline";
}

}  // namespace faultline
