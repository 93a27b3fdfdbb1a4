#include "injector/process/process_selector.h"

#include "injector/containers/container_runtime.h"
#include "injector/process/cgroup_freezer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <regex>

namespace faultline::injector {
namespace {

std::string basename_of_argv0(const std::string& cmdline) {
  std::string argv0 = cmdline.substr(0, cmdline.find(' '));
  size_t slash = argv0.rfind('/');
  return slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
}

// The selector's cmdline regex, compiled; nullopt when it has none.
Result<std::optional<std::regex>> cmdline_regex(const pb::ProcessSelector& selector) {
  if (selector.cmdline_regex().empty()) return std::optional<std::regex>{};
  try {
    return std::optional<std::regex>(std::regex(selector.cmdline_regex(), std::regex::ECMAScript));
  } catch (const std::regex_error& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad cmdline regex /" + selector.cmdline_regex() + "/: " + e.what());
  }
}

// Whether the process matches the selector's cmdline regex (when it has one) or its name.
bool named(const ProcessInfo& p, const pb::ProcessSelector& selector,
           const std::optional<std::regex>& re) {
  if (re) return std::regex_search(p.cmdline, *re);
  return p.comm == selector.name() || basename_of_argv0(p.cmdline) == selector.name();
}

// Why a process may not be touched, or empty if it may.
}  // namespace

// A container target names its processes on purpose, its init among them (killing it is how a
// container crashes); otherwise a namespace's init is off limits, since killing it kills the
// whole namespace.
std::string guard_reason(const ProcessInfo& p, const SelectorGuard& guard, bool container_target) {
  if (p.pid == 1) return "PID 1 is never touched";
  if (!container_target && pid_in_own_namespace(p.pid) == 1)
    return "PID 1 of its PID namespace is never touched";
  if (p.kernel_thread) return "kernel threads are never touched";
  if (std::find(guard.protected_pids.begin(), guard.protected_pids.end(), p.pid) !=
      guard.protected_pids.end())
    return "faultline never touches itself";
  return {};
}

namespace {}  // namespace

SelectorGuard SelectorGuard::for_this_process() {
  SelectorGuard g;
  g.protected_pids.push_back(getpid());
  return g;
}

std::string describe(const pb::ProcessSelector& s) {
  if (s.has_container()) {
    std::string in = describe(s.container());
    if (!s.name().empty()) return "name=" + s.name() + " in " + in;
    if (!s.cmdline_regex().empty()) return "cmdline=/" + s.cmdline_regex() + "/ in " + in;
    return "every process of " + in;
  }
  if (!s.name().empty()) return "name=" + s.name();
  if (!s.pidfile().empty()) return "pidfile=" + s.pidfile();
  if (!s.cmdline_regex().empty()) return "cmdline=/" + s.cmdline_regex() + "/";
  if (s.pid() != 0) return "pid=" + std::to_string(s.pid());
  if (!s.cgroup().empty()) return "cgroup=" + s.cgroup();
  return "(empty selector)";
}

Result<std::vector<ProcessInfo>> resolve_processes(const pb::ProcessSelector& selector,
                                                   const pb::ProcessSelection& select,
                                                   const SelectorGuard& guard) {
  std::vector<ProcessInfo> matched;
  uint64_t ns = 0;
  if (!selector.pid_namespace().empty()) {
    ns = namespace_file_inode(selector.pid_namespace());
    if (ns == 0)
      return make_error(ErrorCode::kNotFound,
                        "PID namespace " + selector.pid_namespace() + " does not exist");
  }
  const bool container_target = selector.has_container();
  if (container_target && selector.container_cgroups().empty()) {
    // Resolved to nothing with on_empty: skip; never fall through to the host's processes.
    if (selector.skip_if_empty()) return matched;
    return make_error(ErrorCode::kInternal,
                      "the container selector was not resolved before selecting processes");
  }
  if (container_target) {
    auto re = cmdline_regex(selector);
    if (!re) return re.error();
    std::vector<pid_t> pids;
    for (const auto& cg : selector.container_cgroups()) {
      auto in = cgroup_pids(cg);
      if (!in) continue;  // the container exited since it was resolved
      pids.insert(pids.end(), in->begin(), in->end());
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    for (pid_t pid : pids) {
      auto p = read_process(pid);
      if (!p || p->kernel_thread) continue;
      if ((*re || !selector.name().empty()) && !named(*p, selector, *re)) continue;
      matched.push_back(std::move(*p));
    }
  } else if (selector.pid() != 0 || !selector.pidfile().empty()) {
    pid_t pid = selector.pid();
    if (!selector.pidfile().empty()) {
      auto read = read_pidfile(selector.pidfile());
      if (!read) return read.error();
      pid = *read;
    }
    if (ns != 0) {
      // A PID inside the namespace: find the process that has it there.
      pid_t host = 0;
      for (const auto& p : list_processes())
        if (pid_namespace_inode(p.pid) == ns && pid_in_own_namespace(p.pid) == pid) host = p.pid;
      if (host == 0)
        return make_error(ErrorCode::kNotFound, "no process has pid " + std::to_string(pid) +
                                                    " in PID namespace " +
                                                    selector.pid_namespace());
      pid = host;
    }
    auto info = read_process(pid);
    if (!info)
      return make_error(ErrorCode::kNotFound, "no process with pid " + std::to_string(pid) + " (" +
                                                  describe(selector) + ")");
    matched.push_back(std::move(*info));
  } else if (!selector.name().empty() || !selector.cmdline_regex().empty()) {
    auto re = cmdline_regex(selector);
    if (!re) return re.error();
    for (auto& p : list_processes()) {
      if (p.kernel_thread) continue;
      if (named(p, selector, *re)) matched.push_back(std::move(p));
    }
  } else if (!selector.cgroup().empty()) {
    auto pids = cgroup_pids(selector.cgroup());
    if (!pids) return pids.error();
    for (pid_t pid : *pids)
      if (auto info = read_process(pid)) matched.push_back(std::move(*info));
  } else {
    return make_error(ErrorCode::kInvalidArgument, "process selector is empty");
  }

  if (ns != 0)
    std::erase_if(matched, [ns](const ProcessInfo& p) { return pid_namespace_inode(p.pid) != ns; });
  std::vector<ProcessInfo> allowed;
  std::string refused;
  for (auto& p : matched) {
    if (p.state == 'Z') continue;  // already dead, only not yet reaped: nothing to hit
    std::string why = guard_reason(p, guard, container_target);
    if (why.empty()) {
      allowed.push_back(std::move(p));
    } else if (refused.empty()) {
      refused = "pid " + std::to_string(p.pid) + ": " + why;
    }
  }
  if (allowed.empty()) {
    if (!refused.empty())
      return make_error(ErrorCode::kPermissionDenied,
                        "refused to select " + describe(selector) + " (" + refused + ")");
    if (selector.skip_if_empty()) return allowed;  // on_empty: skip
    return make_error(ErrorCode::kNotFound, "no process matches " + describe(selector));
  }
  size_t want = 1;
  switch (select.mode()) {
    case pb::PROCESS_MODE_ALL:
      want = allowed.size();
      break;
    case pb::PROCESS_MODE_COUNT:
      want = std::max<size_t>(1, select.count());
      break;
    case pb::PROCESS_MODE_PERCENT:
      want =
          std::max<size_t>(1, static_cast<size_t>(std::ceil(select.fraction() * allowed.size())));
      break;
    default:
      break;
  }
  if (want < allowed.size()) {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::shuffle(allowed.begin(), allowed.end(), rng);
    allowed.resize(want);
    std::sort(allowed.begin(), allowed.end(),
              [](const auto& a, const auto& b) { return a.pid < b.pid; });
  }
  return allowed;
}

}  // namespace faultline::injector
