#include "common/latency_slice.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace faultline {

namespace {

// glibc 2.36 has no wrapper for sched_setattr; the layout is the kernel's (SCHED_ATTR_SIZE_VER1).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // for SCHED_OTHER: the requested slice, in ns (0.1 to 100 ms)
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

}  // namespace

bool request_latency_slice(std::chrono::microseconds slice) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  // The nice value is part of the call: keep the one the process has.
  attr.sched_nice = 0;
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, 0);
  if (errno == 0) attr.sched_nice = nice;
  attr.sched_runtime = static_cast<uint64_t>(slice.count()) * 1000;
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace faultline
