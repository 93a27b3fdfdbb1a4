// Container and pod targets on a real containerd (through the CRI) and a real dockerd: the
// selectors resolve to what the host sees, faults land inside the pod, and revert finds its
// way back when the container restarted or the pod is gone. Nothing of the runtime is mocked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "container_fixture.h"
#include "injector/containers/container_pinning.h"
#include "injector/containers/container_runtimes.h"
#include "injector/fault_engine.h"
#include "injector/network/netns.h"
#include "injector/policy/injector_policy.h"
#include "support/child_process.h"
#include "support/faultline_cli.h"
#include "support/two_hosts.h"

namespace faultline::testing {
namespace {

TEST_F(ContainerTargets, PodSelectorsResolveToWhatTheHostSees) {
  std::string app = unique("sel");
  TestPod a = pod(app + "-a", {{"app", app}, {"tier", "front"}},
                  {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {{"role", "web"}}},
                   {"idle", {"sleep", "100000"}, {{"role", "idle"}}}});
  TestPod b = pod(app + "-b", {{"app", app}, {"tier", "back"}});
  ASSERT_FALSE(a.id.empty());
  ASSERT_FALSE(b.id.empty());

  auto both = runtimes_->find(pod_selector({{"app", app}}));
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->size(), 2u);

  auto front = runtimes_->find(pod_selector({{"app", app}, {"tier", "front"}}));
  ASSERT_TRUE(front) << front.error().message;
  ASSERT_EQ(front->size(), 1u);
  const auto& t = front->front();
  EXPECT_EQ(t.pod_id, a.id);
  EXPECT_EQ(t.pod_uid, a.uid);
  EXPECT_EQ(t.pod_name, app + "-a");
  EXPECT_EQ(t.ip, a.ip);
  ASSERT_EQ(t.members.size(), 2u);
  for (const auto& m : t.members) {
    EXPECT_GT(m.pid, 1);
    // The host's view: the container's process is in the pod's netns and its own cgroup.
    EXPECT_EQ(injector::netns_inode("/proc/" + std::to_string(m.pid) + "/ns/net"), t.netns_inode);
    EXPECT_NE(m.cgroup.find("pod" + a.uid), std::string::npos) << m.cgroup;
    EXPECT_NE(m.cgroup.find(m.id), std::string::npos) << m.cgroup;
  }
  EXPECT_NE(t.netns_inode, 0u);
  EXPECT_EQ(injector::netns_inode(t.netns), t.netns_inode);

  // One container of the pod by name.
  auto sel = pod_selector({{"app", app}, {"tier", "front"}});
  sel.set_name("idle");
  auto idle = runtimes_->find(sel);
  ASSERT_TRUE(idle);
  ASSERT_EQ(idle->size(), 1u);
  ASSERT_EQ(idle->front().members.size(), 1u);
  EXPECT_EQ(idle->front().members[0].id, a.container_ids["idle"]);

  // By pod name; a container target by its labels; by id prefix.
  pb::ContainerSelector by_name;
  by_name.set_pod(true);
  by_name.set_pod_name(app + "-b");
  auto named = runtimes_->find(by_name);
  ASSERT_TRUE(named);
  ASSERT_EQ(named->size(), 1u);
  EXPECT_EQ(named->front().pod_id, b.id);

  pb::ContainerSelector by_labels;
  by_labels.set_runtime("cri");
  (*by_labels.mutable_labels())["role"] = "idle";
  auto labelled = runtimes_->find(by_labels);
  ASSERT_TRUE(labelled);
  ASSERT_EQ(labelled->size(), 1u);
  EXPECT_FALSE(labelled->front().pod);
  EXPECT_EQ(labelled->front().members[0].name, "idle");
  EXPECT_EQ(labelled->front().netns_inode, t.netns_inode)
      << "a CRI container shares its pod's netns";

  pb::ContainerSelector by_id;
  by_id.set_runtime("cri");
  by_id.set_id(a.container_ids["web"].substr(0, 12));
  auto ided = runtimes_->find(by_id);
  ASSERT_TRUE(ided);
  ASSERT_EQ(ided->size(), 1u);
  EXPECT_EQ(ided->front().members[0].id, a.container_ids["web"]);

  auto none = runtimes_->find(pod_selector({{"app", app + "-nobody"}}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  pb::ContainerSelector bad_id;
  bad_id.set_runtime("cri");
  bad_id.set_id("../../etc");
  auto refused = runtimes_->find(bad_id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ContainerTargets, DockerContainersResolveByNameLabelsAndImage) {
  if (rig_.docker_socket.empty()) GTEST_SKIP() << "dockerd is not installed on this machine";
  std::string name = unique("fl-docker");
  auto id = docker_run(rig_, name, {{"app", name}}, {"sleep", "100000"});
  ASSERT_TRUE(id) << id.error().message;
  dockers_.push_back(*id);

  pb::ContainerSelector by_name;
  by_name.set_runtime("docker");
  by_name.set_name(name);
  auto found = runtimes_->find(by_name);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  const auto& t = found->front();
  EXPECT_EQ(t.runtime, "docker");
  EXPECT_EQ(t.members[0].id, *id);
  EXPECT_GT(t.members[0].pid, 1);
  EXPECT_NE(t.members[0].cgroup.find(*id), std::string::npos) << t.members[0].cgroup;
  EXPECT_EQ(injector::netns_inode("/proc/" + std::to_string(t.members[0].pid) + "/ns/net"),
            t.netns_inode);

  pb::ContainerSelector by_labels;  // runtime auto: both runtimes asked, one answers
  (*by_labels.mutable_labels())["app"] = name;
  by_labels.set_image("faultline.local/busybox");
  auto labelled = runtimes_->find(by_labels);
  ASSERT_TRUE(labelled) << labelled.error().message;
  ASSERT_EQ(labelled->size(), 1u);
  EXPECT_EQ(labelled->front().members[0].id, *id);

  by_labels.set_image("nginx");
  auto other_image = runtimes_->find(by_labels);
  ASSERT_TRUE(other_image);
  EXPECT_TRUE(other_image->empty());

  pb::ContainerSelector pod_on_docker;
  pod_on_docker.set_pod(true);
  pod_on_docker.set_runtime("docker");
  pod_on_docker.set_pod_name("x");
  EXPECT_FALSE(runtimes_->find(pod_on_docker));
}

TEST_F(ContainerTargets, DelayInsideAPodIsMeasuredFromTheHostAndReverted) {
  std::string app = unique("delay");
  TestPod p = pod(app, {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  PingStats before = ping(p.ip, 10);
  ASSERT_EQ(before.received, 10) << "the pod does not answer pings before the fault";

  auto e = engine();
  auto applied = e->apply("f-delay", delay_in(pod_selector({{"app", app}}), 80), 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(applied->containers_size(), 1);
  EXPECT_EQ(applied->containers(0).pod_id(), p.id);
  EXPECT_EQ(applied->containers(0).pod_uid(), p.uid);
  EXPECT_NE(applied->containers(0).netns_inode(), 0u);
  EXPECT_NE(applied->summary().find("pod faultline-test/" + app), std::string::npos)
      << applied->summary();
  // What the backend recorded is the pod's namespace, not the host's.
  EXPECT_EQ(applied->network().netns_inode(), applied->containers(0).netns_inode());

  PingStats during = ping(p.ip, 10);
  EXPECT_EQ(during.received, 10);
  EXPECT_GE(during.median_ms, 80.0) << "replies leave the pod 80 ms late";
  EXPECT_LT(during.median_ms, 80.0 + 40.0);

  ASSERT_TRUE(e->revert("f-delay"));
  PingStats after = ping(p.ip, 10);
  EXPECT_EQ(after.received, 10);
  EXPECT_LT(after.median_ms, 20.0);
}

TEST_F(ContainerTargets, ANetworkFaultRefusesAnAmbiguousPodSelector) {
  std::string app = unique("two");
  pod(app + "-1", {{"app", app}});
  pod(app + "-2", {{"app", app}});
  auto e = engine();
  auto applied = e->apply("f-two", delay_in(pod_selector({{"app", app}}), 50), 30s);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(applied.error().message.find("matches 2"), std::string::npos)
      << applied.error().message;
  EXPECT_TRUE(e->active_fault_ids().empty());

  auto none = e->apply("f-none", delay_in(pod_selector({{"app", app + "-x"}}), 50), 30s);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

// chaos-mesh#4827: a network fault must not be lost, nor outlive its revert, when the pod's
// container restarts during it. The pod's network namespace outlives the container.
TEST_F(ContainerTargets, DelayStaysThroughAContainerRestartAndIsRemovedOnRevert) {
  std::string app = unique("restart");
  PodContainer web{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}};
  TestPod p = pod(app, {{"app", app}}, {web});
  ASSERT_FALSE(p.ip.empty());
  auto e = engine();
  ASSERT_TRUE(e->apply("f-restart", delay_in(pod_selector({{"app", app}}), 80), 30s));

  auto second = restart_container(rig_, p, web, 1);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(container_state(rig_, p.container_ids["web"]), "exited");
  EXPECT_EQ(container_state(rig_, *second), "running");
  PingStats during = ping(p.ip, 10);
  EXPECT_GE(during.median_ms, 80.0) << "the fault went away with the old container";

  ASSERT_TRUE(e->revert("f-restart"));
  PingStats after = ping(p.ip, 10);
  EXPECT_EQ(after.received, 10);
  EXPECT_LT(after.median_ms, 20.0) << "the fault outlived its revert";
}

TEST_F(ContainerTargets, RevertAfterThePodWasDeletedTouchesNothingNew) {
  std::string app = unique("deleted");
  TestPod p = pod(app, {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  auto e = engine();
  auto applied = e->apply("f-deleted", delay_in(pod_selector({{"app", app}}), 80), 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  remove_pod(rig_, p.id);
  // A new pod under the same name and labels (its own, new namespace).
  TestPod again = pod(app, {{"app", app}});
  ASSERT_FALSE(again.ip.empty());
  auto reverted = e->revert("f-deleted");
  ASSERT_TRUE(reverted) << reverted.error().message;
  PingStats fresh = ping(again.ip, 10);
  EXPECT_EQ(fresh.received, 10);
  EXPECT_LT(fresh.median_ms, 20.0) << "the new pod got the old pod's fault";
}

TEST_F(ContainerTargets, FreezerPausesOneContainerAndThawsIt) {
  std::string app = unique("freeze");
  TestPod p = pod(app, {{"app", app}},
                  {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}},
                   {"idle", {"sleep", "100000"}, {}}});
  ASSERT_FALSE(p.ip.empty());
  pb::FaultSpec spec;
  auto* pause = spec.mutable_process_pause();
  auto sel = pod_selector({{"app", app}});
  sel.set_name("web");
  *pause->mutable_selector()->mutable_container() = sel;
  pause->set_method("freezer");
  pause->mutable_select()->set_mode(pb::PROCESS_MODE_ALL);

  auto e = engine();
  auto applied = e->apply("f-freeze", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_FALSE(applied->frozen_cgroup().empty());
  EXPECT_NE(applied->frozen_cgroup().find(p.container_ids["web"]), std::string::npos);
  std::string out;
  EXPECT_NE(run_capture("curl -s -m 1 http://" + p.ip + ":8080/", &out), 0)
      << "a frozen web server answered: " << out;
  ASSERT_TRUE(e->revert("f-freeze"));
  EXPECT_EQ(run_capture("curl -s -m 3 http://" + p.ip + ":8080/", &out), 0) << out;
  EXPECT_NE(out.find("faultline"), std::string::npos) << out;
}

TEST_F(ContainerTargets, ProcessKillHitsTheNamedProcessOfTheContainerOnly) {
  std::string app = unique("kill");
  TestPod p = pod(app, {{"app", app}},
                  {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}},
                   {"idle", {"sleep", "100000"}, {}}});
  ASSERT_FALSE(p.ip.empty());
  // A host process with the same name must not be hit.
  ChildProcess host_sleep({"/bin/sleep", "100000"});

  pb::FaultSpec spec;
  auto* kill = spec.mutable_process_kill();
  auto sel = pod_selector({{"app", app}});
  *kill->mutable_selector()->mutable_container() = sel;
  kill->mutable_selector()->set_name("sleep");
  kill->set_signal(9);
  kill->mutable_select()->set_mode(pb::PROCESS_MODE_ALL);
  auto e = engine();
  auto applied = e->apply("f-kill", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(applied->processes_size(), 1);
  EXPECT_NE(applied->processes(0).pid(), host_sleep.pid());
  EXPECT_TRUE(
      wait_until([&] { return container_state(rig_, p.container_ids["idle"]) == "exited"; }, 5s));
  EXPECT_EQ(container_state(rig_, p.container_ids["web"]), "running");
  EXPECT_TRUE(host_sleep.running());
  (void)e->revert("f-kill");
}

TEST_F(ContainerTargets, ContainerKillStopsOneContainerThroughTheCri) {
  std::string app = unique("ckill");
  TestPod p = pod(app, {{"app", app}},
                  {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}},
                   {"idle", {"sleep", "100000"}, {}}});
  ASSERT_FALSE(p.ip.empty());
  pb::FaultSpec spec;
  auto sel = pod_selector({{"app", app}});
  sel.set_name("idle");
  *spec.mutable_container_kill()->mutable_selector()->mutable_container() = sel;
  spec.mutable_container_kill()->set_grace_ms(1000);
  auto e = engine();
  auto applied = e->apply("f-ckill", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("stopped container(s) idle"), std::string::npos)
      << applied->summary();
  EXPECT_EQ(container_state(rig_, p.container_ids["idle"]), "exited");
  EXPECT_EQ(container_state(rig_, p.container_ids["web"]), "running");
  EXPECT_EQ(pod_state(rig_, p.id), "ready");
  EXPECT_TRUE(e->revert("f-ckill"));
}

// A crash, not a user's stop: Docker's restart policy brings the container back.
TEST_F(ContainerTargets, DockerContainerKillIsUndoneByTheRestartPolicy) {
  if (rig_.docker_socket.empty()) GTEST_SKIP() << "dockerd is not installed on this machine";
  std::string name = unique("fl-crash");
  auto id =
      docker_run(rig_, name, {{"app", name}}, {"sleep", "100000"}, {"--restart", "on-failure"});
  ASSERT_TRUE(id) << id.error().message;
  dockers_.push_back(*id);
  std::string pid_before = docker_inspect(rig_, *id, "{{.State.Pid}}");
  pb::FaultSpec spec;
  pb::ContainerSelector sel;
  sel.set_runtime("docker");
  sel.set_name(name);
  *spec.mutable_container_kill()->mutable_selector()->mutable_container() = sel;
  spec.mutable_container_kill()->set_grace_ms(1000);
  auto e = engine();
  auto applied = e->apply("f-dkill", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_TRUE(wait_until(
      [&] {
        return docker_inspect(rig_, *id, "{{.RestartCount}}") == "1" &&
               docker_inspect(rig_, *id, "{{.State.Running}}") == "true";
      },
      10s))
      << "restarts " << docker_inspect(rig_, *id, "{{.RestartCount}}");
  EXPECT_NE(docker_inspect(rig_, *id, "{{.State.Pid}}"), pid_before);
  EXPECT_TRUE(e->revert("f-dkill"));
}

TEST_F(ContainerTargets, PodKillStopsTheSandbox) {
  std::string app = unique("pkill");
  TestPod p = pod(app, {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  pb::FaultSpec spec;
  *spec.mutable_pod_kill()->mutable_selector()->mutable_container() = pod_selector({{"app", app}});
  auto e = engine();
  auto applied = e->apply("f-pkill", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("stopped pod faultline-test/" + app), std::string::npos)
      << applied->summary();
  EXPECT_EQ(pod_state(rig_, p.id), "notready");
  EXPECT_EQ(container_state(rig_, p.container_ids["web"]), "exited");
  EXPECT_EQ(ping(p.ip, 2).received, 0) << "the pod's network went with it";
  EXPECT_TRUE(e->revert("f-pkill"));
}

// Kill → running again, measured by the run: a Docker container crashed through container_kill,
// brought back by its restart policy, seen by a container_restarted recovery check.
TEST_F(ContainerTargets, ARunMeasuresAKilledContainerComingBack) {
  if (rig_.docker_socket.empty()) GTEST_SKIP() << "dockerd is not installed on this machine";
  std::string name = unique("fl-heal");
  auto id =
      docker_run(rig_, name, {{"app", name}}, {"sleep", "100000"}, {"--restart", "on-failure"});
  ASSERT_TRUE(id) << id.error().message;
  dockers_.push_back(*id);
  TempDir dir;
  CliEnvironment env(dir.path(), "", rig_.docker_socket);
  std::string exp = dir.file("heal.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: heal}\n"
             "targets:\n  cache: {container: {runtime: docker, name: " +
                 name +
                 "}}\n"
                 "faults:\n  - {name: crash, kind: container_kill, target: cache, params: "
                 "{grace: 0s}}\n"
                 "recovery:\n  deadline: 20s\n  checks:\n"
                 "    - {name: back, interval: 100ms, container_restarted: {target: cache}}\n");
  FaultlineCli cli(FAULTLINE_BIN_DIR, dir);
  EXPECT_EQ(cli.run({"run", exp}), 0) << cli.out() << cli.err();
  EXPECT_NE(cli.out().find("stopped container(s) " + name), std::string::npos) << cli.out();
  EXPECT_TRUE(std::regex_search(cli.out(), std::regex("Time to recover +[0-9]+ ms"))) << cli.out();
  EXPECT_EQ(docker_inspect(rig_, *id, "{{.RestartCount}}"), "1");
}

// The whole path: YAML with a pod target, the embedded controller and injector of
// `faultline run`, the runtime found from the environment; then a crash in the middle of the
// fault, taken back by the next faultline on the machine.
TEST_F(ContainerTargets, EmbeddedRunOnAPodAndAKill9InTheMiddle) {
  std::string app = unique("cli");
  TestPod p = pod(app, {{"app", app}});
  TestPod other = pod(app + "-b", {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  ASSERT_FALSE(other.ip.empty());
  TempDir dir;
  CliEnvironment env(dir.path(), rig_.cri_socket, "");
  auto experiment = [&](const std::string& duration) {
    std::string path = dir.file("pod-" + duration + ".yaml");
    write_file(path,
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: pod-delay}\n"
               "targets:\n  web:\n    pod: {namespace: faultline-test, labels: {app: " +
                   app +
                   "}, mode: all}\n"
                   "faults:\n  - {name: slow, kind: network_delay, target: web, duration: " +
                   duration + ", params: {delay: 80ms}}\n");
    return path;
  };
  FaultlineCli cli(FAULTLINE_BIN_DIR, dir);

  // The plan lists both pods (mode all), each on this node with its address.
  ASSERT_EQ(cli.run({"plan", experiment("2s")}), 0) << cli.out() << cli.err();
  EXPECT_NE(cli.out().find("2 of 2 matching pod(s) on 1 node(s) (mode all"), std::string::npos)
      << cli.out();
  EXPECT_NE(cli.out().find("faultline-test/" + app + " container web " + p.ip), std::string::npos)
      << cli.out();
  EXPECT_NE(cli.out().find("faultline-test/" + app + "-b container web " + other.ip),
            std::string::npos)
      << cli.out();

  auto short_run = cli.start({"run", experiment("3s")});
  EXPECT_TRUE(wait_until(
      [&] { return ping(p.ip, 3).median_ms >= 80.0 && ping(other.ip, 3).median_ms >= 80.0; }, 10s))
      << "both pods are delayed, each in its own namespace";
  ASSERT_EQ(short_run->wait(30s), 0) << read_file(dir.file("out.txt"));
  std::string out = read_file(dir.file("out.txt"));
  EXPECT_NE(out.find("(in pod faultline-test/" + app + " "), std::string::npos) << out;
  EXPECT_NE(out.find("(in pod faultline-test/" + app + "-b "), std::string::npos) << out;
  EXPECT_LT(ping(p.ip, 5).median_ms, 20.0) << "the run left its delay behind";
  EXPECT_LT(ping(other.ip, 5).median_ms, 20.0) << "the run left its delay behind";

  auto running = cli.start({"run", experiment("60s")});
  EXPECT_TRUE(wait_until([&] { return ping(p.ip, 3).median_ms >= 80.0; }, 15s))
      << read_file(dir.file("out.txt")) << read_file(dir.file("err.txt"));
  running->signal(SIGKILL);
  running->wait(5s);
  // The delay was the dead process's own (nfqueue, fail-open): traffic flows again at once,
  // but its rules are still in the pod's namespace until the ledger is replayed.
  auto sel = pod_selector({{"app", app}});
  sel.add_ids(p.id);
  auto found = runtimes_->find(sel);
  ASSERT_TRUE(found && found->size() == 1);
  std::string netns = found->front().netns.substr(found->front().netns.rfind('/') + 1);
  PingStats open = ping(p.ip, 5);
  EXPECT_EQ(open.received, 5);
  EXPECT_LT(open.median_ms, 20.0);
  EXPECT_NE(faultline_chains(netns), "")
      << "the crash left nothing to clean? (netns " << netns << ")";
  // Any next faultline run on the machine takes it back first (plan is enough).
  ASSERT_EQ(cli.run({"plan", experiment("60s")}), 0) << cli.out() << cli.err();
  EXPECT_EQ(faultline_chains(netns), "") << cli.err();
  EXPECT_LT(ping(p.ip, 5).median_ms, 20.0) << cli.err();
}

TEST_F(ContainerTargets, TheInjectorPolicyJudgesPodsByWhatTheyResolvedTo) {
  std::string app = unique("policy");
  TestPod allowed = pod(app + "-in", {{"app", app}, {"tier", "in"}, {"chaos", "allowed"}});
  TestPod other = pod(app + "-out", {{"app", app}, {"tier", "out"}});
  ASSERT_FALSE(allowed.ip.empty());
  ASSERT_FALSE(other.ip.empty());
  auto policy = injector::InjectorPolicy::parse(
      "allow:\n  kinds: [network_delay]\n  containers:\n"
      "    - {namespace: faultline-test, labels: {chaos: allowed}}\n",
      "policy.yaml");
  ASSERT_TRUE(policy) << policy.error().message;
  auto e = engine();
  e->set_policy(std::make_shared<injector::InjectorPolicy>(std::move(*policy)));

  auto refused =
      e->apply("f-out", delay_in(pod_selector({{"app", app}, {"tier", "out"}}), 50), 30s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message.find("would touch pod faultline-test/" + app +
                                         "-out container web, which no containers rule allows"),
            std::string::npos)
      << refused.error().message;
  EXPECT_LT(ping(other.ip, 3).median_ms, 20.0) << "a refused fault left something";

  auto applied = e->apply("f-in", delay_in(pod_selector({{"app", app}, {"tier", "in"}}), 50), 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_GE(ping(allowed.ip, 3).median_ms, 50.0);
  ASSERT_TRUE(e->revert("f-in"));
}

// Loss over 2,000 packets, a partition and the pod's interface down, each measured from the
// host against the pod's address and each taken back.
TEST_F(ContainerTargets, LossPartitionAndInterfaceDownInAPodAreMeasuredFromTheHost) {
  std::string app = unique("net");
  TestPod p = pod(app, {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  auto sel = pod_selector({{"app", app}});
  auto e = engine();
  auto scope_of = [&](pb::NetworkScope* scope) {
    *scope->mutable_container() = sel;
    scope->set_direction("egress");
    scope->set_protocol("all");
  };

  pb::FaultSpec loss;
  scope_of(loss.mutable_network_loss()->mutable_scope());
  loss.mutable_network_loss()->set_fraction(0.3);
  loss.mutable_network_loss()->set_model("random");
  loss.mutable_network_loss()->set_backend("auto");
  auto applied = e->apply("f-loss", loss, 60s);
  ASSERT_TRUE(applied) << applied.error().message;
  std::string out;
  run_capture("ping -n -q -c 2000 -i 0.002 -W 1 " + p.ip, &out);
  PingStats lossy = parse_ping(out);
  double lost = 1.0 - lossy.received / 2000.0;
  EXPECT_GT(lost, 0.24) << out;
  EXPECT_LT(lost, 0.36) << out;
  ASSERT_TRUE(e->revert("f-loss"));
  run_capture("ping -n -q -c 500 -i 0.002 -W 1 " + p.ip, &out);
  EXPECT_EQ(parse_ping(out).received, 500) << "loss outlived its revert: " << out;

  pb::FaultSpec cut;
  scope_of(cut.mutable_network_partition()->mutable_scope());
  cut.mutable_network_partition()->set_direction("both");
  applied = e->apply("f-cut", cut, 60s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(run_capture("curl -s -m 1 http://" + p.ip + ":8080/", &out), 0)
      << "a partitioned pod answered: " << out;
  ASSERT_TRUE(e->revert("f-cut"));
  EXPECT_EQ(run_capture("curl -s -m 3 http://" + p.ip + ":8080/", &out), 0) << out;

  pb::FaultSpec down;
  *down.mutable_interface_down()->mutable_scope()->mutable_container() = sel;
  down.mutable_interface_down()->mutable_scope()->set_interface("eth0");  // the pod's own
  applied = e->apply("f-down", down, 60s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(ping(p.ip, 3).received, 0) << "the pod's interface is still up";
  ASSERT_TRUE(e->revert("f-down"));
  EXPECT_TRUE(wait_until([&] { return ping(p.ip, 2).received == 2; }, 5s))
      << "the pod's interface did not come back";
}

// http_fault on a pod: the requests its httpd receives, intercepted inside the pod's network
// namespace by a helper the injector started there; curl from the host sees the rule's answer
// on the matching path only, and after the revert the pod's own answers again.
TEST_F(ContainerTargets, HttpFaultInAPodAnswersForItsServerAndGoesAway) {
  std::string app = unique("http");
  TestPod p = pod(app, {{"app", app}});
  ASSERT_FALSE(p.ip.empty());
  auto e = engine();
  pb::FaultSpec spec;
  auto* f = spec.mutable_http_fault();
  *f->mutable_scope()->mutable_container() = pod_selector({{"app", app}});
  f->mutable_scope()->add_ports(8080);
  f->mutable_scope()->set_direction("ingress");
  f->set_drain_ms(1000);
  auto* rule = f->add_rules();
  rule->set_path_kind("prefix");
  rule->set_path("/teapot");
  rule->set_percent(1);
  rule->set_action("abort");
  rule->set_status(418);
  rule->set_body("short and stout");
  auto applied = e->apply("f-http", spec, 60s);
  ASSERT_TRUE(applied) << applied.error().message;
  std::string out;
  run_capture("curl -s -m 3 -w ' %{http_code}' http://" + p.ip + ":8080/teapot", &out);
  EXPECT_EQ(out, "short and stout 418");
  run_capture("curl -s -o /dev/null -m 3 -w '%{http_code}' http://" + p.ip + ":8080/other", &out);
  EXPECT_EQ(out, "404") << "other paths reach the pod's httpd";
  ASSERT_TRUE(e->revert("f-http"));
  run_capture("curl -s -o /dev/null -m 3 -w '%{http_code}' http://" + p.ip + ":8080/teapot", &out);
  EXPECT_EQ(out, "404") << "the fault outlived its revert";
  EXPECT_EQ(capture("pgrep -x faultline-inter || true"), "");
}

// A Docker container (found through the Docker Engine API) gets the delay in its own network
// namespace: seen from inside it (`docker exec ... ping`), and gone after the revert. The
// rig's dockerd has no bridge, so the container's loopback is what there is to measure.
TEST_F(ContainerTargets, DelayInADockerContainerIsSeenFromInsideIt) {
  if (rig_.docker_socket.empty()) GTEST_SKIP() << "dockerd is not installed on this machine";
  std::string name = unique("fl-docker-net");
  auto id = docker_run(rig_, name, {{"app", name}}, {"sleep", "100000"});
  ASSERT_TRUE(id) << id.error().message;
  dockers_.push_back(*id);
  auto ping_inside = [&] {
    std::string out;
    run_capture(
        "docker -H unix://" + rig_.docker_socket + " exec " + *id + " ping -c 5 -i 0.2 127.0.0.1",
        &out);
    return parse_ping(out);
  };
  ASSERT_LT(ping_inside().median_ms, 10.0);

  pb::ContainerSelector sel;
  sel.set_runtime("docker");
  sel.set_name(name);
  auto e = engine();
  pb::FaultSpec spec = delay_in(sel, 40);
  spec.mutable_network_delay()->mutable_scope()->set_interface("lo");  // its only one
  auto applied = e->apply("f-docker-delay", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("container " + name), std::string::npos) << applied->summary();
  EXPECT_GE(ping_inside().median_ms, 40.0) << "no delay inside the Docker container";
  ASSERT_TRUE(e->revert("f-docker-delay"));
  EXPECT_LT(ping_inside().median_ms, 10.0) << "the delay outlived its revert";
}

}  // namespace
}  // namespace faultline::testing
