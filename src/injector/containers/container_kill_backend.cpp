// container_kill and pod_kill: stops through the runtime, so the orchestrator sees a crash
// and brings the container (or pod) back by its own rules. There is nothing to revert.
#include <future>

#include "common/log.h"
#include "injector/backend_registry.h"
#include "injector/containers/container_runtimes.h"

namespace faultline::injector {
namespace {

// The containers the engine pinned the selector to (its ids narrow a controller's choice).
Result<std::vector<ContainerTarget>> resolve(const pb::ProcessSelector& selector) {
  if (!selector.has_container())
    return make_error(ErrorCode::kInvalidArgument, "the target names no container or pod");
  auto found = ContainerRuntimes::shared()->find(selector.container());
  if (!found) return found.error();
  if (found->empty())
    return make_error(ErrorCode::kNotFound,
                      "no running " + describe(selector.container()) + " on this node");
  return found;
}

class ContainerKillBackend : public FaultBackend {
 public:
  std::string kind() const override { return "container_kill"; }
  bool available() const override { return ContainerRuntimes::shared()->configured(); }

  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override {
    const auto& kill = spec.container_kill();
    auto targets = resolve(kill.selector());
    if (!targets) return targets.error();
    auto grace = std::chrono::seconds((kill.grace_ms() + 999) / 1000);
    // Every container at once: each stop may take the whole grace period.
    struct Stop {
      std::string what;
      std::future<Status> done;
    };
    std::vector<Stop> stops;
    for (const auto& t : *targets) {
      auto runtime = ContainerRuntimes::shared()->runtime(t.runtime);
      if (!runtime) return runtime.error();
      for (const auto& m : t.members)
        stops.push_back({m.name + " (" + m.id.substr(0, 12) + ")",
                         std::async(std::launch::async, [r = *runtime, id = m.id, grace] {
                           return r->stop_container(id, grace);
                         })});
    }
    std::string stopped, failed;
    for (auto& s : stops) {
      Status st = s.done.get();
      if (st) {
        stopped += (stopped.empty() ? "" : ", ") + s.what;
      } else if (failed.empty()) {
        failed = s.what + ": " + st.error().message;
      }
    }
    if (stopped.empty()) return make_error(ErrorCode::kUnavailable, "stopping failed: " + failed);
    AppliedFault applied{fault_id, spec, {}};
    applied.state.set_summary("stopped container(s) " + stopped + " through the runtime (grace " +
                              std::to_string(grace.count()) + "s)" +
                              (failed.empty() ? "" : "; not stopped: " + failed));
    spdlog::info("containers stopped fault_id={} containers=\"{}\"", fault_id, stopped);
    return applied;
  }

  // The runtime's restart policy or the kubelet brings them back; nothing of ours is left.
  Status revert(const AppliedFault&) override { return Ok{}; }
};

class PodKillBackend : public FaultBackend {
 public:
  std::string kind() const override { return "pod_kill"; }
  bool available() const override { return ContainerRuntimes::shared()->runtime("cri").ok(); }

  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override {
    auto targets = resolve(spec.pod_kill().selector());
    if (!targets) return targets.error();
    auto runtime = ContainerRuntimes::shared()->runtime("cri");
    if (!runtime) return runtime.error();
    std::string stopped;
    for (const auto& t : *targets) {
      if (!t.pod) return make_error(ErrorCode::kInvalidArgument, "pod_kill needs a pod target");
      if (Status s = (*runtime)->stop_pod(t.pod_id); !s) return s.error();
      stopped += (stopped.empty() ? "pod " : ", pod ") + t.pod_namespace + "/" + t.pod_name;
    }
    AppliedFault applied{fault_id, spec, {}};
    applied.state.set_summary("stopped " + stopped + " through the CRI");
    spdlog::info("pods stopped fault_id={} pods=\"{}\"", fault_id, stopped);
    return applied;
  }

  Status revert(const AppliedFault&) override { return Ok{}; }
};

FaultReach processes_of(const pb::ProcessSelector& selector) {
  FaultReach r;
  r.processes.push_back({selector, ""});
  return r;
}

BackendRegistration container_kill() {
  return {
      .kind = "container_kill",
      .make = [](BackendContext&) { return std::make_unique<ContainerKillBackend>(); },
      .reach = [](const pb::FaultSpec& s) { return processes_of(s.container_kill().selector()); }};
}

BackendRegistration pod_kill() {
  return {.kind = "pod_kill",
          .make = [](BackendContext&) { return std::make_unique<PodKillBackend>(); },
          .reach = [](const pb::FaultSpec& s) { return processes_of(s.pod_kill().selector()); }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(container_kill);
FAULTLINE_REGISTER_BACKEND(pod_kill);
}  // namespace faultline::injector
