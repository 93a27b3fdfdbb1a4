// This process's view of the mount table (/proc/self/mountinfo), for backends that need to
// know what is mounted where: cgroup hierarchies, their own FUSE mounts.
#pragma once

#include <string>
#include <vector>

namespace faultline::injector {

struct MountEntry {
  std::string point;    // where it is mounted
  std::string fstype;   // "cgroup2", "cgroup", "fuse.faultline-io", ...
  std::string options;  // the superblock options, e.g. "rw,freezer"
};

std::vector<MountEntry> read_mounts();

}  // namespace faultline::injector
