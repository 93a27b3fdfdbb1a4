// Asking the scheduler to treat the calling process as latency-sensitive: a short time slice
// under EEVDF (Linux 6.12 and later), so that its threads, woken by a packet, get the CPU
// ahead of batch work instead of waiting out another thread's slice. Inherited by threads and
// children created afterwards. No privilege is needed and the policy stays SCHED_OTHER: the
// process does not get more CPU, only its turn sooner, and pays with more frequent preemption.
#pragma once

#include <chrono>

namespace faultline {

// True when the kernel took the slice. Older kernels accept the call and ignore the value;
// false only when sched_setattr itself is refused (seccomp, a non-Linux build).
bool request_latency_slice(std::chrono::microseconds slice);

}  // namespace faultline
