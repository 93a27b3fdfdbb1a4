// Finding processes by cgroup, and freezing a whole cgroup: through cgroup v2's cgroup.freeze
// or cgroup v1's freezer controller, whichever this host has for the path (hybrid hosts, like
// this project's CI machine, have both). Paths are relative to the hierarchy's mount point,
// as in /proc/PID/cgroup: "/system.slice/app.service".
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::injector {

enum class CgroupVersion { kV1, kV2 };

struct FreezableCgroup {
  CgroupVersion version;
  std::string dir;  // absolute directory of the cgroup in its hierarchy
};

// The directory of cgroup `path` (relative, as in /proc/PID/cgroup) in the hierarchy mounted
// at `mount`.
std::string cgroup_dir(const std::string& mount, const std::string& path);

// Every PID in the cgroup and its sub-cgroups (in the first mounted hierarchy that has it).
// kNotFound when no hierarchy has the path.
Result<std::vector<pid_t>> cgroup_pids(const std::string& path);

// Where the cgroup can be frozen: v2 if the unified hierarchy has the path, else the v1
// freezer controller. kNotFound / kFailedPrecondition with what is missing.
Result<FreezableCgroup> find_freezable(const std::string& path);

// Freezes and waits (up to a few seconds) until the kernel reports the cgroup frozen.
Status freeze(const FreezableCgroup& cg);
// Thaws. A cgroup that no longer exists is already thawed: success.
Status thaw(const FreezableCgroup& cg);
bool is_frozen(const FreezableCgroup& cg);

}  // namespace faultline::injector
