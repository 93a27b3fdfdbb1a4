// Container and pod targets on the test rig's real containerd and dockerd
// (tests/support/containers/rig.sh), with many pods on the node:
//   1. resolving a pod selector (one pod by label among N) through the CRI: faultline's
//      resolver next to the python CRI client the rig ships (crictl is not packaged in
//      Debian 12), and a Docker label lookup next to the docker CLI;
//   2. apply and revert of a network delay inside a pod's network namespace, next to a tc
//      process run into the same namespace with nsenter (tbf: this kernel has no netem);
//   3. container_kill of a Docker container with a restart policy until it runs again.
// Usage: container_bench [pods] [rounds]   (root; Markdown tables on stdout; everything it
// creates is removed, and the rig is taken down and checked clean at the end)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "containers/container_rig.h"
#include "injector/containers/container_runtimes.h"
#include "injector/fault_engine.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;
namespace pb = ::faultline::v1;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

void row(const std::string& what, const std::vector<double>& v) {
  std::printf("| %s | %zu | %.2f | %.2f |\n", what.c_str(), v.size(), pct(v, 0.5), pct(v, 0.99));
}

pb::ContainerSelector pod_labelled(const std::string& app) {
  pb::ContainerSelector s;
  s.set_pod(true);
  s.set_runtime("cri");
  (*s.mutable_pod_labels())["app"] = app;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = argc > 1 ? std::atoi(argv[1]) : 100;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  spdlog::set_level(spdlog::level::warn);
  auto rig = container_rig();
  if (!rig) {
    std::fprintf(stderr, "container_bench: %s\n", rig.error().message.c_str());
    return 77;
  }
  std::vector<std::string> made;
  auto made_at = Clock::now();
  std::string last_ip;
  for (int i = 0; i < pods; ++i) {
    auto p = run_pod(*rig, "bench-" + std::to_string(i), {{"app", "bench-" + std::to_string(i)}},
                     {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}}});
    if (!p) {
      std::fprintf(stderr, "pod %d: %s\n", i, p.error().message.c_str());
      break;
    }
    made.push_back(p->id);
  }
  std::fprintf(stderr, "%zu pods up in %.1f s\n", made.size(), ms_since(made_at) / 1000);

  injector::ContainerRuntimeConfig config;
  config.cri_socket = rig->cri_socket;
  config.docker_socket = rig->docker_socket;
  auto runtimes = std::make_shared<injector::ContainerRuntimes>(config);
  injector::ContainerRuntimes::set_shared(runtimes);
  std::string want = "bench-" + std::to_string(pods / 2);

  std::printf("## Resolving one pod by label among %zu on the node (ms)\n\n", made.size());
  std::printf("| resolver | rounds | p50 | p99 |\n|---|---|---|---|\n");
  std::vector<double> ours;
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    auto found = runtimes->find(pod_labelled(want));
    ours.push_back(ms_since(t));
    if (!found || found->size() != 1) {
      std::fprintf(stderr, "resolve failed\n");
      break;
    }
  }
  row("faultline (CRI gRPC: list, status verbose)", ours);
  std::vector<double> python;
  std::string cri = "/usr/bin/python3 " + std::string(FAULTLINE_SOURCE_DIR) +
                    "/tests/support/containers/cri.py --sock " + rig->cri_socket;
  for (int i = 0; i < std::min(rounds, 20); ++i) {
    auto t = Clock::now();
    std::string id;
    run_capture(cri + " pods --label app=" + want + " -q", &id);
    id = id.substr(0, id.find('\n'));
    run_capture(cri + " inspectp " + id + " > /dev/null", nullptr);
    python.push_back(ms_since(t));
  }
  row("cri.py (python grpcio; pods --label, inspectp)", python);

  if (!rig->docker_socket.empty()) {
    auto id = docker_run(*rig, "bench-docker", {{"app", "bench-docker"}}, {"sleep", "100000"},
                         {"--restart", "on-failure"});
    if (id) {
      pb::ContainerSelector sel;
      sel.set_runtime("docker");
      (*sel.mutable_labels())["app"] = "bench-docker";
      std::vector<double> docker_ours, docker_cli;
      for (int i = 0; i < rounds; ++i) {
        auto t = Clock::now();
        auto found = runtimes->find(sel);
        docker_ours.push_back(ms_since(t));
        if (!found || found->size() != 1) break;
      }
      std::string cli = "/usr/bin/docker -H unix://" + rig->docker_socket;
      for (int i = 0; i < std::min(rounds, 20); ++i) {
        auto t = Clock::now();
        run_capture(cli + " inspect -f '{{.State.Pid}}' $(" + cli +
                        " ps -q --filter label=app=bench-docker) > /dev/null",
                    nullptr);
        docker_cli.push_back(ms_since(t));
      }
      row("faultline (Docker Engine API: list, inspect)", docker_ours);
      row("docker CLI (ps --filter label, inspect)", docker_cli);

      std::printf("\n## container_kill of a Docker container until it runs again (ms)\n\n");
      std::printf("| what | rounds | p50 | p99 |\n|---|---|---|---|\n");
      injector::FaultEngine engine(injector::default_backends());
      engine.set_container_runtimes(runtimes);
      std::vector<double> back;
      for (int i = 0; i < 10; ++i) {
        std::string pid = docker_inspect(*rig, *id, "{{.State.Pid}}");
        // Each kill waits for the container to have run a while, so Docker's back-off resets.
        std::this_thread::sleep_for(11s);
        pb::FaultSpec spec;
        pb::ContainerSelector named;
        named.set_runtime("docker");
        named.set_name("bench-docker");
        *spec.mutable_container_kill()->mutable_selector()->mutable_container() = named;
        auto t = Clock::now();
        auto applied = engine.apply("k" + std::to_string(i), spec, 30s);
        if (!applied) {
          std::fprintf(stderr, "kill %d: %s\n", i, applied.error().message.c_str());
          break;
        }
        // Running again as a new process (Docker backs off between restarts: 100 ms, doubling).
        while (ms_since(t) < 30000) {
          std::string now = docker_inspect(*rig, *id, "{{.State.Pid}} {{.State.Running}}");
          if (now != pid + " true" && now.size() > 5 && now.substr(now.size() - 4) == "true") break;
        }
        back.push_back(ms_since(t));
        (void)engine.revert("k" + std::to_string(i));
      }
      row("kill (grace 0s) -> running again (restart policy, 10 s apart)", back);
      docker_remove(*rig, *id);
    }
  }

  std::printf("\n## Network delay into one pod's namespace among %zu (ms)\n\n", made.size());
  std::printf("| what | rounds | p50 | p99 |\n|---|---|---|---|\n");
  {
    injector::FaultEngine engine(injector::default_backends());
    engine.set_container_runtimes(runtimes);
    std::vector<double> apply, revert;
    for (int i = 0; i < std::min(rounds, 100); ++i) {
      pb::FaultSpec spec;
      auto* d = spec.mutable_network_delay();
      *d->mutable_scope()->mutable_container() = pod_labelled(want);
      d->mutable_scope()->set_direction("egress");
      d->mutable_scope()->set_protocol("all");
      d->set_delay_us(10000);
      d->set_distribution("uniform");
      d->set_backend("auto");
      auto t = Clock::now();
      if (!engine.apply("d" + std::to_string(i), spec, 30s)) break;
      apply.push_back(ms_since(t));
      t = Clock::now();
      if (!engine.revert("d" + std::to_string(i))) break;
      revert.push_back(ms_since(t));
    }
    row("faultline apply (resolve + nfqueue rules in the pod)", apply);
    row("faultline revert", revert);
    auto found = runtimes->find(pod_labelled(want));
    std::string netns = found && !found->empty() ? found->front().netns : "";
    std::vector<double> tc_add, tc_del;
    for (int i = 0; i < std::min(rounds, 100) && !netns.empty(); ++i) {
      auto t = Clock::now();
      run_capture("nsenter --net=" + netns +
                      " tc qdisc add dev eth0 root tbf rate 100mbit burst 32k latency 10ms",
                  nullptr);
      tc_add.push_back(ms_since(t));
      t = Clock::now();
      run_capture("nsenter --net=" + netns + " tc qdisc del dev eth0 root", nullptr);
      tc_del.push_back(ms_since(t));
    }
    row("nsenter + tc qdisc add (tbf)", tc_add);
    row("nsenter + tc qdisc del", tc_del);
  }

  auto gone_at = Clock::now();
  for (const auto& id : made) remove_pod(*rig, id);
  std::fprintf(stderr, "%zu pods removed in %.1f s\n", made.size(), ms_since(gone_at) / 1000);
  std::string left = container_rig_down();
  if (!left.empty()) std::fprintf(stderr, "%s\n", left.c_str());
  return left.empty() ? 0 : 1;
}
