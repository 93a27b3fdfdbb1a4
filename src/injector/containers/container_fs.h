// A directory inside a container's own filesystem, reached without trusting anything the
// container controls: the container is found by the kernel's cgroup membership (a process in
// the container's cgroup that lives in another mount namespace than ours, so never one of our
// own stress workers), and the path is resolved from that process's root with RESOLVE_IN_ROOT,
// so symlinks, ".." and absolute links in the container all stay inside the container.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace faultline::injector {

// A process of the container in `cgroup` (relative to the cgroup mounts), in the container's
// mount namespace; kNotFound when the container has none left.
Result<pid_t> container_process(const std::string& cgroup);

struct ContainerDir {
  UniqueFd fd;         // O_PATH directory, inside the container's root
  std::string inside;  // the directory as the container sees it, for messages
};

// The directory `path` names inside the container (its parent when `path` is an existing
// non-directory). kNotFound when the container or the path is gone.
Result<ContainerDir> open_container_dir(const std::string& cgroup, const std::string& path);

}  // namespace faultline::injector
