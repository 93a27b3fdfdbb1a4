// The libfaketime control file of a process started under `faultline exec`, found and written
// without trusting the process: the file is named after the wrapper (PID and start time) in a
// directory only root can write, opened relative to that directory and never through a
// symlink. A target's environment (FAULTLINE_EXEC_CLOCK used to name the file) is not read.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"

namespace faultline::injector {

struct ClockControl {
  std::string path;
  bool all_clocks = false;  // the wrapper set up every clock, not only the wall clock
};

// The control file of the `faultline exec` that started `pid` (the process or one of its
// ancestors), or nullopt when none did.
std::optional<ClockControl> find_clock_control(pid_t pid);

// Replaces the file's content with `offset` atomically (libfaketime must never read half an
// offset). Refused unless the directory is root's alone and the file a regular file of root.
// A file that is gone (its wrapper ended) is nothing to do.
Status write_clock_offset(const std::string& path, const std::string& offset);

}  // namespace faultline::injector
