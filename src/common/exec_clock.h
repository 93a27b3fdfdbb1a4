// Where `faultline exec` keeps the clock control file libfaketime reads for the processes it
// starts, and what the file is called. The name is derived from the wrapper process (PID and
// start time), never from anything a target says: the injector finds the file by walking up
// from the target to the `faultline exec` that started it, in a directory only root can
// write, so no process can point the root injector at another file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/state_dir.h"

namespace faultline {

inline std::string exec_clock_dir() {
  return state_dir() + "/exec";
}

// "<pid>-<start ticks>.<realtime|all>.clock": which wrapper, and which clocks it set up.
inline std::string exec_clock_file_name(pid_t wrapper, uint64_t start_ticks, bool all_clocks) {
  return std::to_string(wrapper) + "-" + std::to_string(start_ticks) +
         (all_clocks ? ".all.clock" : ".realtime.clock");
}

}  // namespace faultline
