// Runs a program (no shell) with a timeout, for command probes and rollback actions.
#pragma once

#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"

namespace faultline {

struct CommandOutcome {
  int exit_code = -1;  // -1 when it was killed at the timeout
  bool timed_out = false;
  std::string output;  // stdout and stderr, last 4 KiB
};

// argv[0] is a path, or a name looked up in PATH. Fails only when it cannot start.
// `netns_fd` (an open network namespace): the program runs inside it. The child enters it
// between fork and exec, so this process's threads stay where they are and no nsenter
// process is needed in between.
// `clean_environment`: the program gets only PATH=/usr/sbin:/usr/bin:/sbin:/bin and LANG=C,
// not this process's environment (for programs run on someone else's behalf).
Result<CommandOutcome> run_command(const std::vector<std::string>& argv, Duration timeout,
                                   int netns_fd = -1, bool clean_environment = false);

}  // namespace faultline
