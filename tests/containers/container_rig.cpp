#include "container_rig.h"

#include <sys/wait.h>

#include <grpcpp/grpcpp.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>

#include "k8s/cri/runtime/v1/api.grpc.pb.h"

namespace faultline::testing {

namespace cri = ::runtime::v1;

namespace {

const std::string kRig = std::string(FAULTLINE_SOURCE_DIR) + "/tests/support/containers/rig.sh";

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::unique_ptr<cri::RuntimeService::Stub> stub(const RigEnv& rig) {
  return cri::RuntimeService::NewStub(
      grpc::CreateChannel("unix:" + rig.cri_socket, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> ctx(int seconds = 30) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

std::string uuid4() {
  std::random_device rd;
  std::mt19937_64 g(rd());
  char buf[40];
  uint64_t a = g(), b = g();
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-a%03x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xffff), unsigned(a & 0xfff), unsigned(b >> 52),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

cri::PodSandboxConfig sandbox_config(const RigEnv& rig, const std::string& name,
                                     const std::string& uid,
                                     const std::map<std::string, std::string>& labels,
                                     bool host_namespaces = false) {
  cri::PodSandboxConfig cfg;
  auto* md = cfg.mutable_metadata();
  md->set_name(name);
  md->set_uid(uid);
  md->set_namespace_("faultline-test");
  cfg.set_hostname(name);
  cfg.mutable_labels()->insert(labels.begin(), labels.end());
  auto* linux = cfg.mutable_linux();
  linux->set_cgroup_parent(rig.cgroup_parent + "/pod" + uid);
  auto* ns = linux->mutable_security_context()->mutable_namespace_options();
  ns->set_network(host_namespaces ? cri::NODE : cri::POD);
  ns->set_pid(host_namespaces ? cri::NODE : cri::CONTAINER);
  ns->set_ipc(cri::POD);
  if (host_namespaces) cfg.clear_hostname();
  return cfg;
}

Result<std::string> create_and_start(const RigEnv& rig, const std::string& pod_id,
                                     const cri::PodSandboxConfig& sandbox, const PodContainer& c,
                                     uint32_t attempt) {
  auto s = stub(rig);
  cri::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod_id);
  *req.mutable_sandbox_config() = sandbox;
  auto* cfg = req.mutable_config();
  cfg->mutable_metadata()->set_name(c.name);
  cfg->mutable_metadata()->set_attempt(attempt);
  cfg->mutable_image()->set_image(c.image.empty() ? rig.busybox_image : c.image);
  for (const auto& m : c.mounts) {
    auto* mount = cfg->add_mounts();
    mount->set_host_path(m.host_path);
    mount->set_container_path(m.container_path);
    mount->set_readonly(m.readonly);
    if (m.host_to_container) mount->set_propagation(cri::PROPAGATION_HOST_TO_CONTAINER);
  }
  for (const auto& [k, v] : c.env) {
    auto* e = cfg->add_envs();
    e->set_key(k);
    e->set_value(v);
  }
  auto* sc = cfg->mutable_linux()->mutable_security_context();
  for (const auto& cap : c.add_capabilities) sc->mutable_capabilities()->add_add_capabilities(cap);
  for (const auto& cap : c.drop_capabilities)
    sc->mutable_capabilities()->add_drop_capabilities(cap);
  sc->set_readonly_rootfs(c.readonly_rootfs);
  if (c.seccomp_runtime_default)
    sc->mutable_seccomp()->set_profile_type(cri::SecurityProfile::RuntimeDefault);
  if (!c.argv.empty()) cfg->add_command(c.argv[0]);
  for (size_t i = 1; i < c.argv.size(); ++i) cfg->add_args(c.argv[i]);
  cfg->mutable_labels()->insert(c.labels.begin(), c.labels.end());
  if (c.cpu_limit_millis > 0) {  // as the kubelet turns limits.cpu into a CFS quota
    cfg->mutable_linux()->mutable_resources()->set_cpu_period(100000);
    cfg->mutable_linux()->mutable_resources()->set_cpu_quota(c.cpu_limit_millis * 100);
  }
  if (c.memory_limit_bytes > 0)
    cfg->mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(c.memory_limit_bytes);
  auto* ns = cfg->mutable_linux()->mutable_security_context()->mutable_namespace_options();
  bool host = sandbox.linux().security_context().namespace_options().network() == cri::NODE;
  ns->set_network(host ? cri::NODE : cri::POD);
  ns->set_pid(host ? cri::NODE : cri::CONTAINER);
  ns->set_ipc(cri::POD);
  cri::CreateContainerResponse created;
  grpc::Status st = s->CreateContainer(ctx().get(), req, &created);
  if (!st.ok())
    return make_error(ErrorCode::kUnavailable, "CreateContainer: " + st.error_message());
  cri::StartContainerRequest start;
  start.set_container_id(created.container_id());
  cri::StartContainerResponse started;
  st = s->StartContainer(ctx().get(), start, &started);
  if (!st.ok()) return make_error(ErrorCode::kUnavailable, "StartContainer: " + st.error_message());
  return created.container_id();
}

}  // namespace

int run_capture(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string out;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  int rc = pclose(p);
  if (output) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

Result<RigEnv> container_rig() {
  static std::mutex mu;
  static std::optional<Result<RigEnv>> cached;
  std::lock_guard lock(mu);
  if (cached) return *cached;
  std::string out;
  int rc = run_capture("FAULTLINE_RIG_DOCKER=auto " + kRig + " up", &out);
  if (rc != 0) {
    cached = make_error(ErrorCode::kUnavailable,
                        "rig.sh up failed (exit " + std::to_string(rc) +
                            "): " + out.substr(out.size() > 2000 ? out.size() - 2000 : 0));
    return *cached;
  }
  auto env = read_env_file("/run/faultline-test/env");
  RigEnv rig;
  rig.cri_socket = env["CONTAINERD_ADDRESS"];
  std::string docker = env["DOCKER_HOST"];
  if (docker.rfind("unix://", 0) == 0) rig.docker_socket = docker.substr(7);
  rig.subnet = env["FAULTLINE_RIG_SUBNET"];
  rig.cgroup_parent = env["FAULTLINE_RIG_CGROUP_PARENT"];
  rig.busybox_image = env["FAULTLINE_RIG_BUSYBOX_IMAGE"];
  if (rig.cri_socket.empty())
    cached = make_error(ErrorCode::kUnavailable, "rig.sh up wrote no CONTAINERD_ADDRESS");
  else
    cached = rig;
  return *cached;
}

std::string container_rig_down() {
  std::string out;
  int rc = run_capture(kRig + " down", &out);
  if (rc != 0) return "rig.sh down failed: " + out;
  rc = run_capture(kRig + " leftovers", &out);
  if (rc != 0) return "left behind: " + out;
  return "";
}

Result<TestPod> run_pod(const RigEnv& rig, const std::string& name,
                        const std::map<std::string, std::string>& labels,
                        const std::vector<PodContainer>& containers, bool host_namespaces) {
  auto s = stub(rig);
  TestPod pod;
  pod.uid = uuid4();
  cri::RunPodSandboxRequest req;
  *req.mutable_config() = sandbox_config(rig, name, pod.uid, labels, host_namespaces);
  cri::RunPodSandboxResponse resp;
  grpc::Status st = s->RunPodSandbox(ctx(60).get(), req, &resp);
  if (!st.ok()) return make_error(ErrorCode::kUnavailable, "RunPodSandbox: " + st.error_message());
  pod.id = resp.pod_sandbox_id();
  for (const auto& c : containers) {
    auto id = create_and_start(rig, pod.id, req.config(), c, 0);
    if (!id) {
      remove_pod(rig, pod.id);
      return id.error();
    }
    pod.container_ids[c.name] = *id;
  }
  cri::PodSandboxStatusRequest sreq;
  sreq.set_pod_sandbox_id(pod.id);
  cri::PodSandboxStatusResponse sresp;
  st = s->PodSandboxStatus(ctx().get(), sreq, &sresp);
  if (st.ok()) pod.ip = sresp.status().network().ip();
  return pod;
}

void remove_pod(const RigEnv& rig, const std::string& pod_id) {
  auto s = stub(rig);
  cri::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod_id);
  cri::StopPodSandboxResponse stopped;
  (void)s->StopPodSandbox(ctx(60).get(), stop, &stopped);
  cri::RemovePodSandboxRequest rm;
  rm.set_pod_sandbox_id(pod_id);
  cri::RemovePodSandboxResponse removed;
  (void)s->RemovePodSandbox(ctx(60).get(), rm, &removed);
}

Result<std::string> restart_container(const RigEnv& rig, const TestPod& pod,
                                      const PodContainer& container, uint32_t attempt) {
  auto s = stub(rig);
  auto it = pod.container_ids.find(container.name);
  if (it != pod.container_ids.end()) {
    cri::StopContainerRequest stop;
    stop.set_container_id(it->second);
    stop.set_timeout(0);
    cri::StopContainerResponse stopped;
    (void)s->StopContainer(ctx().get(), stop, &stopped);
  }
  cri::PodSandboxStatusRequest sreq;
  sreq.set_pod_sandbox_id(pod.id);
  sreq.set_verbose(false);
  cri::PodSandboxStatusResponse sresp;
  grpc::Status st = s->PodSandboxStatus(ctx().get(), sreq, &sresp);
  if (!st.ok()) return make_error(ErrorCode::kNotFound, "PodSandboxStatus: " + st.error_message());
  cri::PodSandboxConfig cfg;
  *cfg.mutable_metadata() = sresp.status().metadata();
  cfg.mutable_labels()->insert(sresp.status().labels().begin(), sresp.status().labels().end());
  return create_and_start(rig, pod.id, cfg, container, attempt);
}

std::string container_state(const RigEnv& rig, const std::string& container_id) {
  auto s = stub(rig);
  cri::ContainerStatusRequest req;
  req.set_container_id(container_id);
  cri::ContainerStatusResponse resp;
  grpc::Status st = s->ContainerStatus(ctx().get(), req, &resp);
  if (!st.ok()) return "gone";
  switch (resp.status().state()) {
    case cri::CONTAINER_RUNNING:
      return "running";
    case cri::CONTAINER_EXITED:
      return "exited";
    case cri::CONTAINER_CREATED:
      return "created";
    default:
      return "unknown";
  }
}

std::string pod_state(const RigEnv& rig, const std::string& pod_id) {
  auto s = stub(rig);
  cri::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(pod_id);
  cri::PodSandboxStatusResponse resp;
  grpc::Status st = s->PodSandboxStatus(ctx().get(), req, &resp);
  if (!st.ok()) return "gone";
  return resp.status().state() == cri::SANDBOX_READY ? "ready" : "notready";
}

std::string docker_inspect(const RigEnv& rig, const std::string& id, const std::string& format) {
  std::string out;
  run_capture(
      "/usr/bin/docker -H unix://" + rig.docker_socket + " inspect -f '" + format + "' " + id,
      &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Result<std::string> docker_run(const RigEnv& rig, const std::string& name,
                               const std::map<std::string, std::string>& labels,
                               const std::vector<std::string>& argv,
                               const std::vector<std::string>& extra) {
  std::string cmd =
      "/usr/bin/docker -H unix://" + rig.docker_socket + " run -d --network none --name " + name;
  for (const auto& e : extra) cmd += " " + e;
  for (const auto& [k, v] : labels) cmd += " --label " + k + "=" + v;
  cmd += " " + rig.busybox_image;
  for (const auto& a : argv) cmd += " " + a;
  std::string out;
  if (run_capture(cmd, &out) != 0) return make_error(ErrorCode::kUnavailable, "docker run: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

void docker_remove(const RigEnv& rig, const std::string& id) {
  std::string out;
  run_capture("/usr/bin/docker -H unix://" + rig.docker_socket + " rm -f " + id, &out);
}

}  // namespace faultline::testing
