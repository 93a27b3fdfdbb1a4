// Sends a signal to exactly the process that was selected, even if its PID has since been
// reused: the process is pinned with a pidfd and its start time checked before signalling.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/result.h"

namespace faultline::injector {

// kNotFound when the process is gone (or the PID now names another process).
Status send_signal_exact(pid_t pid, uint64_t start_time_ticks, int signal);

}  // namespace faultline::injector
