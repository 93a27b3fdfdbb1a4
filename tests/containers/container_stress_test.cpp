// cpu_stress and memory_pressure on a pod: the work is charged to the container's own cgroups,
// so it meets the container's CPU quota and memory limit (and its OOM killer), measured from
// the cgroup files the kernel keeps; nothing of it outlives a revert or a kill -9.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "container_fixture.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

uint64_t read_number(const std::string& path, const std::string& key = "") {
  std::ifstream in(path);
  if (key.empty()) {
    uint64_t v = 0;
    in >> v;
    return v;
  }
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

namespace fs = std::filesystem;

std::vector<pid_t> cgroup_pids_of(const std::string& cgroup) {
  std::ifstream in("/sys/fs/cgroup/freezer" + cgroup + "/cgroup.procs");
  std::vector<pid_t> out;
  for (pid_t p; in >> p;) out.push_back(p);
  return out;
}

pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  char state;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

std::vector<pid_t> procs_in(const std::string& dir) {
  std::ifstream in(dir + "/cgroup.procs");
  std::vector<pid_t> out;
  for (pid_t p; in >> p;) out.push_back(p);
  return out;
}

class ContainerStress : public ContainerTargets {
 protected:
  // The container's cgroup path (as the kernel lists it) for the only container of the pod.
  std::string cgroup_of(const std::string& app) {
    auto sel = pod_selector({{"app", app}});
    auto found = runtimes_->find(sel);
    EXPECT_TRUE(found && found->size() == 1 && found->front().members.size() == 1);
    if (!found || found->empty() || found->front().members.empty()) return "";
    return found->front().members.front().cgroup;
  }

  pb::ProcessSelector in_pod(const std::string& app) {
    pb::ProcessSelector s;
    *s.mutable_container() = pod_selector({{"app", app}});
    return s;
  }
};

TEST_F(ContainerStress, CpuStressIsChargedToTheContainerAndMeetsItsQuota) {
  std::string app = unique("cpu");
  PodContainer c{"web", {"sleep", "100000"}, {}};
  c.cpu_limit_millis = 200;  // limits.cpu: 200m
  TestPod p = pod(app, {{"app", app}}, {c});
  ASSERT_FALSE(p.id.empty());
  std::string cg = cgroup_of(app);
  ASSERT_FALSE(cg.empty());
  std::string cpuacct = "/sys/fs/cgroup/cpuacct" + cg;
  ASSERT_TRUE(std::ifstream(cpuacct + "/cpuacct.usage")) << cpuacct;
  size_t procs_before = procs_in(cpuacct).size();

  pb::FaultSpec spec;
  auto* s = spec.mutable_cpu_stress();
  s->set_workers(1);
  s->set_load(1.0);
  *s->mutable_in_container() = in_pod(app);
  auto e = engine();
  auto applied = e->apply("f-cpu", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("in 1 container cgroup"), std::string::npos)
      << applied->summary();
  EXPECT_EQ(procs_in(cpuacct).size(), procs_before + 1)
      << "the worker is in the container's cgroup";

  uint64_t before = read_number(cpuacct + "/cpuacct.usage");
  std::this_thread::sleep_for(2s);
  uint64_t used_ns = read_number(cpuacct + "/cpuacct.usage") - before;
  double cpus = static_cast<double>(used_ns) / 2e9;
  // A busy worker alone would use a whole CPU; the container's 200m quota holds it near 0.2.
  EXPECT_GT(cpus, 0.12) << "the stress's CPU time is not charged to the container";
  EXPECT_LT(cpus, 0.30) << "the container's CPU quota did not hold the stress";

  ASSERT_TRUE(e->revert("f-cpu"));
  EXPECT_EQ(procs_in(cpuacct).size(), procs_before) << "a worker outlived the revert";
}

TEST_F(ContainerStress, MemoryHeldInAContainerCountsAgainstItsLimitAndMeetsItsOomKiller) {
  std::string app = unique("mem");
  PodContainer c{"web", {"sleep", "100000"}, {}};
  c.memory_limit_bytes = 96ll << 20;
  TestPod p = pod(app, {{"app", app}}, {c});
  ASSERT_FALSE(p.id.empty());
  std::string cg = cgroup_of(app);
  ASSERT_FALSE(cg.empty());
  std::string memory = "/sys/fs/cgroup/memory" + cg;
  uint64_t usage_before = read_number(memory + "/memory.usage_in_bytes");

  // Below the limit: held, and counted in the container's usage.
  pb::FaultSpec spec;
  auto* m = spec.mutable_memory_pressure();
  m->set_size_bytes(48ull << 20);
  *m->mutable_in_container() = in_pod(app);
  auto e = engine();
  auto applied = e->apply("f-mem", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  uint64_t usage = read_number(memory + "/memory.usage_in_bytes");
  EXPECT_GE(usage, usage_before + (46ull << 20)) << "the held memory is not the container's";
  ASSERT_TRUE(e->revert("f-mem"));
  EXPECT_LT(read_number(memory + "/memory.usage_in_bytes"), usage_before + (8ull << 20))
      << "the memory was not given back";

  // Past the limit: the container's OOM killer ends the worker; that is the fault's effect.
  uint64_t ooms = read_number(memory + "/memory.oom_control", "oom_kill");
  m->set_size_bytes(256ull << 20);
  applied = e->apply("f-oom", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("OOM killer"), std::string::npos) << applied->summary();
  EXPECT_GT(read_number(memory + "/memory.oom_control", "oom_kill"), ooms);
  EXPECT_EQ(container_state(rig_, p.container_ids["web"]), "running")
      << "the OOM killer took the container's own process, not the worker";
  ASSERT_TRUE(e->revert("f-oom"));

  // A worker killed between two steps of a ramp (its container stopped, say): the next step
  // finds it gone and the ramp stops; the injector (here, this process) lives on.
  m->set_size_bytes(64ull << 20);
  m->set_ramp_ms(2000);
  applied = e->apply("f-ramp", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  pid_t worker = 0;
  for (pid_t pid : procs_in(memory))
    if (parent_of(pid) == getpid()) worker = pid;
  ASSERT_GT(worker, 0) << "no worker of this process in the container's cgroup";
  ::kill(worker, SIGKILL);
  std::this_thread::sleep_for(2500ms);  // the ramp's remaining steps meet the dead worker
  ASSERT_TRUE(e->revert("f-ramp"));
}

TEST_F(ContainerStress, DiskFillWritesInsideTheContainerAndSymlinksCannotLeadOut) {
  std::string app = unique("disk");
  // The container plants a link to / in its own filesystem, as a hostile one could.
  PodContainer c{"web", {"sh", "-c", "ln -s / /tmp/escape && exec sleep 100000"}, {}};
  TestPod p = pod(app, {{"app", app}}, {c});
  ASSERT_FALSE(p.id.empty());
  std::string cg = cgroup_of(app);
  ASSERT_FALSE(cg.empty());
  auto pids = cgroup_pids_of(cg);
  ASSERT_FALSE(pids.empty());
  std::string root = "/proc/" + std::to_string(pids.front()) + "/root";
  ASSERT_TRUE(wait_until([&] { return fs::is_symlink(root + "/tmp/escape"); }, 5s));

  pb::FaultSpec spec;
  auto* d = spec.mutable_disk_fill();
  d->set_path("/tmp/escape/etc");  // inside the container: its own /etc, not the node's
  d->set_size_bytes(16ull << 20);
  d->set_reserve_bytes(1ull << 20);
  *d->mutable_in_container() = in_pod(app);
  auto e = engine();
  auto applied = e->apply("f-df", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_NE(applied->summary().find("in the container's filesystem"), std::string::npos)
      << applied->summary();
  EXPECT_FALSE(fs::exists("/etc/.faultline-fill-f-df")) << "the fill escaped to the node's /etc";
  std::error_code ec;
  EXPECT_GE(fs::file_size(root + "/etc/.faultline-fill-f-df", ec), 16ull << 20)
      << "no fill in the container's own /etc";
  ASSERT_TRUE(e->revert("f-df"));
  EXPECT_FALSE(fs::exists(root + "/etc/.faultline-fill-f-df")) << "the fill outlived the revert";

  // Reverting after the pod is gone touches nothing and succeeds.
  applied = e->apply("f-df2", spec, 30s);
  ASSERT_TRUE(applied) << applied.error().message;
  remove_pod(rig_, p.id);
  EXPECT_TRUE(e->revert("f-df2"));
}

TEST_F(ContainerStress, AStressInAPodEndsWithAKilledInjector) {
  std::string app = unique("stresskill");
  PodContainer c{"web", {"sleep", "100000"}, {}};
  TestPod p = pod(app, {{"app", app}}, {c});
  ASSERT_FALSE(p.id.empty());
  std::string cg = cgroup_of(app);
  std::string cpuacct = "/sys/fs/cgroup/cpuacct" + cg;
  size_t procs_before = procs_in(cpuacct).size();
  TempDir dir;
  CliEnvironment env(dir.path(), rig_.cri_socket, "");
  std::string path = dir.file("stress.yaml");
  write_file(path,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: pod-stress}\n"
             "targets:\n  web:\n    pod: {namespace: faultline-test, labels: {app: " +
                 app +
                 "}}\n"
                 "faults:\n  - {name: burn, kind: cpu_stress, target: web, duration: 60s, "
                 "params: {workers: 2, load: 50%}}\n");
  FaultlineCli cli(FAULTLINE_BIN_DIR, dir);
  auto running = cli.start({"run", path});
  EXPECT_TRUE(wait_until([&] { return procs_in(cpuacct).size() == procs_before + 2; }, 15s))
      << read_file(dir.file("out.txt")) << read_file(dir.file("err.txt"));
  running->signal(SIGKILL);
  running->wait(5s);
  EXPECT_TRUE(wait_until([&] { return procs_in(cpuacct).size() == procs_before; }, 5s))
      << "the stress workers outlived the killed injector";
}

}  // namespace
}  // namespace faultline::testing
