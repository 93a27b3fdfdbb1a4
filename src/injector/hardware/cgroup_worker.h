// A child process that does a stress's work inside a container's cgroups, so that the kernel
// charges its CPU time and memory to the container: it meets the container's CPU quota and
// memory limit (and its OOM killer) as a stress run inside the container would.
//
// The child is forked, not exec'd: it only makes system calls (no allocation, no locks), so
// forking from the multi-threaded injector is safe. It lives as long as its control channel:
// when the injector closes it (revert) or dies (kill -9), the child sees end-of-file and exits,
// so a stress can never outlive the injector that started it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::injector {

// The cgroup.procs files of every mounted hierarchy that has `cgroup` (a path relative to the
// hierarchy roots, as the container pinning gives it), and whether the cpu and memory
// controllers are among them.
struct CgroupPlacement {
  std::string cgroup;
  std::vector<std::string> procs_files;
  bool has_cpu = false, has_memory = false;
  std::string memory_dir;  // the cgroup's directory in the memory hierarchy
};
Result<CgroupPlacement> placement_of(const std::string& cgroup);

class CgroupWorker {
 public:
  enum class Job {
    kSpin,  // burn CPU at a duty cycle of `load` per 100 ms
    kHold,  // allocate and touch memory on request (grow)
  };

  // Forks the child, which moves itself into the placement's cgroups before doing any work;
  // an error when it could not join them.
  static Result<std::unique_ptr<CgroupWorker>> start(const CgroupPlacement& where, Job job,
                                                     double load = 1.0);
  ~CgroupWorker();  // stops the child and reaps it

  pid_t pid() const { return pid_; }

  // kHold: allocates and touches `bytes` more; the total held, or why not (the container's
  // memory limit reached: its OOM killer killed the worker).
  Result<uint64_t> grow(uint64_t bytes);

  // CPU seconds the child has used so far.
  double cpu_seconds() const;

  // "" while the child runs; else how it ended ("killed by SIGKILL").
  std::string ended();

 private:
  CgroupWorker() = default;
  pid_t pid_ = -1;
  int control_fd_ = -1;  // our end of the control socket: the child runs while it is open
  int status_fd_ = -1;   // read end: the child's answers
  int exit_status_ = -1;
  std::string memory_dir_;
  uint64_t oom_kills_at_start_ = 0;
  bool reaped_ = false;
};

}  // namespace faultline::injector
