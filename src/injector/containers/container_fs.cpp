#include "injector/containers/container_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "injector/containers/container_runtime.h"
#include "injector/process/cgroup_freezer.h"

namespace faultline::injector {
namespace {

ino_t mount_ns(const std::string& proc) {
  struct stat st {};
  return ::stat((proc + "/ns/mnt").c_str(), &st) == 0 ? st.st_ino : 0;
}

// openat2 with RESOLVE_IN_ROOT: `root` is "/" for everything below it.
int open_in_root(int root, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path.empty() ? "." : path;
  long fd;
  do fd = ::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);  // a rename raced the lookup: the kernel asks to retry
  return static_cast<int>(fd);
}

}  // namespace

Result<pid_t> container_process(const std::string& cgroup) {
  auto pids = cgroup_pids(cgroup);
  if (!pids) return pids.error();
  ino_t ours = mount_ns("/proc/self");
  for (pid_t p : *pids) {
    ino_t theirs = mount_ns("/proc/" + std::to_string(p));
    if (theirs != 0 && theirs != ours) return p;
  }
  return make_error(ErrorCode::kNotFound,
                    "no process of the container in " + cgroup + " to reach its filesystem by");
}

Result<ContainerDir> open_container_dir(const std::string& cgroup, const std::string& path) {
  auto pid = container_process(cgroup);
  if (!pid) return pid.error();
  std::string proc_root = "/proc/" + std::to_string(*pid) + "/root";
  UniqueFd root(::open(proc_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root)
    return make_error(ErrorCode::kNotFound, "cannot open the container's root (" + proc_root +
                                                "): " + std::strerror(errno));
  // The container must still be the one in that cgroup: the PID could have been reused since.
  auto now = process_cgroup(*pid);
  if (!now || (*now != cgroup && !now->starts_with(cgroup + "/")))
    return make_error(ErrorCode::kNotFound, "the container in " + cgroup + " is gone");
  ContainerDir out;
  out.inside = path;
  UniqueFd target(open_in_root(root.get(), path, O_PATH));
  if (!target)
    return make_error(ErrorCode::kNotFound,
                      "\"" + path + "\" in the container: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(target.get(), &st) != 0)
    return make_error(ErrorCode::kNotFound, "stat \"" + path + "\": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    out.fd = std::move(target);
    return out;
  }
  std::string parent = std::filesystem::path(path).parent_path().string();
  out.inside = parent.empty() ? "/" : parent;
  out.fd = UniqueFd(open_in_root(root.get(), out.inside, O_PATH | O_DIRECTORY));
  if (!out.fd)
    return make_error(ErrorCode::kNotFound,
                      "\"" + out.inside + "\" in the container: " + std::strerror(errno));
  return out;
}

}  // namespace faultline::injector
