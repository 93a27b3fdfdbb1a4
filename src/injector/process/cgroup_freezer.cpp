#include "injector/process/cgroup_freezer.h"

#include "injector/mount_table.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace faultline::injector {
namespace {

namespace fs = std::filesystem;

struct Mount {
  std::string point;
  bool v2 = false;
  bool freezer = false;
};

// cgroup mounts from /proc/self/mountinfo: the unified hierarchy and each v1 hierarchy.
std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  for (const auto& m : read_mounts()) {
    if (m.fstype == "cgroup2") out.push_back({m.point, true, false});
    if (m.fstype == "cgroup")
      out.push_back(
          {m.point, false, ("," + m.options + ",").find(",freezer,") != std::string::npos});
  }
  // The unified hierarchy first, then the v1 freezer: the ones that can also freeze.
  std::stable_sort(out.begin(), out.end(), [](const Mount& a, const Mount& b) {
    return std::pair(a.v2, a.freezer) > std::pair(b.v2, b.freezer);
  });
  return out;
}

bool write_file(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string cgroup_dir(const std::string& mount, const std::string& path) {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return rel.empty() ? mount : mount + "/" + rel;
}

Result<std::vector<pid_t>> cgroup_pids(const std::string& path) {
  for (const auto& m : cgroup_mounts()) {
    std::string dir = cgroup_dir(m.point, path);
    if (!std::ifstream(dir + "/cgroup.procs")) continue;
    // The sub-cgroups' processes too: a pod's or a service's processes live in its children
    // (on cgroup v2 only leaves hold processes), and freezing the parent freezes them all.
    std::vector<pid_t> pids;
    std::error_code ec;
    auto read_procs = [&pids](const std::string& d) {
      std::ifstream in(d + "/cgroup.procs");
      for (pid_t p; in >> p;) pids.push_back(p);
    };
    read_procs(dir);
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) read_procs(it->path().string());
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
  }
  return make_error(ErrorCode::kNotFound, "no cgroup " + path + " in any mounted hierarchy");
}

Result<FreezableCgroup> find_freezable(const std::string& path) {
  bool exists = false;
  for (const auto& m : cgroup_mounts()) {
    std::string dir = cgroup_dir(m.point, path);
    if (!fs::is_directory(dir)) continue;
    exists = true;
    if (m.v2 && fs::exists(dir + "/cgroup.freeze")) return FreezableCgroup{CgroupVersion::kV2, dir};
    if (m.freezer && fs::exists(dir + "/freezer.state"))
      return FreezableCgroup{CgroupVersion::kV1, dir};
  }
  if (!exists)
    return make_error(ErrorCode::kNotFound, "no cgroup " + path + " in any mounted hierarchy");
  return make_error(ErrorCode::kFailedPrecondition,
                    "cgroup " + path +
                        " cannot be frozen here: it is neither in the cgroup v2 hierarchy nor "
                        "under the v1 freezer controller (use method: signal)");
}

bool is_frozen(const FreezableCgroup& cg) {
  if (cg.version == CgroupVersion::kV2)
    return read_all(cg.dir + "/cgroup.events").find("frozen 1") != std::string::npos;
  return read_all(cg.dir + "/freezer.state").rfind("FROZEN", 0) == 0;
}

Status freeze(const FreezableCgroup& cg) {
  bool ok = cg.version == CgroupVersion::kV2 ? write_file(cg.dir + "/cgroup.freeze", "1")
                                             : write_file(cg.dir + "/freezer.state", "FROZEN");
  if (!ok) return make_error(ErrorCode::kFailedPrecondition, "cannot freeze " + cg.dir);
  // The kernel freezes asynchronously; a run must not report "paused" before it is.
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(5);
  auto next_retry = start + std::chrono::milliseconds(50);
  while (!is_frozen(cg)) {
    auto now = std::chrono::steady_clock::now();
    if (now > deadline) {
      (void)thaw(cg);
      return make_error(ErrorCode::kInternal, "cgroup " + cg.dir + " did not freeze within 5s");
    }
    // The v1 freezer can stay FREEZING for good when a task was forking as the freeze went
    // out (a shell loop starting `sleep` is enough, seen in CI); writing FROZEN again sends
    // the freeze to every task once more, which is how the kernel documents a retry.
    if (cg.version == CgroupVersion::kV1 && now >= next_retry) {
      (void)write_file(cg.dir + "/freezer.state", "FROZEN");
      next_retry = now + std::chrono::milliseconds(50);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return Ok{};
}

Status thaw(const FreezableCgroup& cg) {
  if (!fs::is_directory(cg.dir)) return Ok{};
  bool ok = cg.version == CgroupVersion::kV2 ? write_file(cg.dir + "/cgroup.freeze", "0")
                                             : write_file(cg.dir + "/freezer.state", "THAWED");
  if (!ok && fs::is_directory(cg.dir))
    return make_error(ErrorCode::kInternal, "cannot thaw " + cg.dir);
  return Ok{};
}

}  // namespace faultline::injector
