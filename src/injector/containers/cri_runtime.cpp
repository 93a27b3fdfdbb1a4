#include "injector/containers/cri_runtime.h"

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "injector/network/netns.h"
#include "k8s/cri/runtime/v1/api.grpc.pb.h"

namespace faultline::injector {

namespace cri = ::runtime::v1;
using Json = nlohmann::json;

namespace {

// A runtime that does not answer within this is treated as down: a fault waits no longer.
constexpr auto kCallTimeout = std::chrono::seconds(3);

std::unique_ptr<grpc::ClientContext> call_context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  return ctx;
}

Error rpc_error(const std::string& what, const grpc::Status& s) {
  ErrorCode code = s.error_code() == grpc::StatusCode::NOT_FOUND ? ErrorCode::kNotFound
                                                                 : ErrorCode::kUnavailable;
  return make_error(code, "CRI " + what + ": " + s.error_message());
}

// containerd (and CRI-O) put the runtime's own view in the verbose "info" map as JSON.
Json verbose_info(const google::protobuf::Map<std::string, std::string>& info) {
  auto it = info.find("info");
  if (it == info.end()) return Json::object();
  Json j = Json::parse(it->second, nullptr, false);
  return j.is_discarded() || !j.is_object() ? Json::object() : j;
}

pid_t info_pid(const Json& info) {
  auto it = info.find("pid");
  return it != info.end() && it->is_number_integer() ? it->get<pid_t>() : 0;
}

// The network namespace path in the OCI spec the runtime wrote (the pod's bind mount).
std::string spec_netns(const Json& info) {
  const Json* ns = nullptr;
  try {
    ns = &info.at("runtimeSpec").at("linux").at("namespaces");
  } catch (const Json::exception&) {
    return "";
  }
  if (!ns->is_array()) return "";
  for (const auto& n : *ns)
    if (n.value("type", "") == "network" && n.contains("path") && n["path"].is_string())
      return n["path"].get<std::string>();
  return "";
}

std::map<std::string, std::string> to_map(
    const google::protobuf::Map<std::string, std::string>& m) {
  return {m.begin(), m.end()};
}

bool is_hex_prefix(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

struct CriRuntime::Stub {
  std::unique_ptr<cri::RuntimeService::Stub> rpc;
};

CriRuntime::CriRuntime(std::string socket) : socket_(std::move(socket)), stub_(new Stub) {
  std::string target = socket_.rfind("unix:", 0) == 0 ? socket_ : "unix:" + socket_;
  stub_->rpc =
      cri::RuntimeService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

CriRuntime::~CriRuntime() = default;

Status CriRuntime::ping() {
  cri::VersionRequest req;
  cri::VersionResponse resp;
  auto ctx = call_context();
  grpc::Status s = stub_->rpc->Version(ctx.get(), req, &resp);
  if (!s.ok()) return rpc_error("Version on " + socket_, s);
  return Ok{};
}

Result<std::vector<ContainerTarget>> CriRuntime::find(const pb::ContainerSelector& sel) {
  if (!sel.id().empty() && (sel.id().size() < 12 || !is_hex_prefix(sel.id())))
    return make_error(ErrorCode::kInvalidArgument,
                      "container id '" + sel.id() + "' is not 12 or more hex digits");

  // Pods first: a container target still needs its pod for the network namespace and IP.
  cri::ListPodSandboxRequest pods_req;
  auto* pf = pods_req.mutable_filter();
  pf->mutable_state()->set_state(cri::SANDBOX_READY);
  if (!sel.pod_id().empty()) pf->set_id(sel.pod_id());
  if (sel.pod())
    for (const auto& [k, v] : sel.pod_labels()) (*pf->mutable_label_selector())[k] = v;
  cri::ListPodSandboxResponse pods;
  {
    auto ctx = call_context();
    grpc::Status s = stub_->rpc->ListPodSandbox(ctx.get(), pods_req, &pods);
    if (!s.ok()) return rpc_error("ListPodSandbox", s);
  }

  std::vector<ContainerTarget> out;
  for (const auto& p : pods.items()) {
    if (!sel.pod_namespace().empty() && p.metadata().namespace_() != sel.pod_namespace()) continue;
    if (!sel.pod_name().empty() && p.metadata().name() != sel.pod_name()) continue;

    cri::ContainerFilter cf;
    cf.set_pod_sandbox_id(p.id());
    cf.mutable_state()->set_state(cri::CONTAINER_RUNNING);
    if (!sel.pod())
      for (const auto& [k, v] : sel.labels()) (*cf.mutable_label_selector())[k] = v;
    cri::ListContainersRequest creq;
    *creq.mutable_filter() = cf;
    cri::ListContainersResponse containers;
    {
      auto ctx = call_context();
      grpc::Status s = stub_->rpc->ListContainers(ctx.get(), creq, &containers);
      if (!s.ok()) return rpc_error("ListContainers", s);
    }

    std::vector<ContainerMember> members;
    for (const auto& c : containers.containers()) {
      if (!sel.name().empty() && c.metadata().name() != sel.name()) continue;
      if (!sel.pod()) {
        if (!sel.id().empty() && c.id().rfind(sel.id(), 0) != 0) continue;
        if (!image_matches(sel.image(), c.image().image())) continue;
      }
      cri::ContainerStatusRequest sreq;
      sreq.set_container_id(c.id());
      sreq.set_verbose(true);
      cri::ContainerStatusResponse st;
      auto ctx = call_context();
      grpc::Status s = stub_->rpc->ContainerStatus(ctx.get(), sreq, &st);
      if (!s.ok()) {
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) continue;  // gone meanwhile
        return rpc_error("ContainerStatus " + c.id(), s);
      }
      if (st.status().state() != cri::CONTAINER_RUNNING) continue;
      ContainerMember m;
      m.id = c.id();
      m.name = c.metadata().name();
      m.image = c.image().image();
      m.labels = to_map(c.labels());
      m.restart_count = c.metadata().attempt();
      m.pid = info_pid(verbose_info(st.info()));
      if (m.pid <= 1) continue;  // exited between the list and the status, or no info
      // The kernel's word on the cgroup, not the spec's (a systemd driver writes a slice
      // name there, not a path).
      auto cg = process_cgroup(m.pid);
      if (!cg) continue;
      m.cgroup = *cg;
      members.push_back(std::move(m));
    }
    if (members.empty()) continue;

    cri::PodSandboxStatusRequest preq;
    preq.set_pod_sandbox_id(p.id());
    preq.set_verbose(true);
    cri::PodSandboxStatusResponse pst;
    {
      auto ctx = call_context();
      grpc::Status s = stub_->rpc->PodSandboxStatus(ctx.get(), preq, &pst);
      if (!s.ok()) {
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) continue;
        return rpc_error("PodSandboxStatus " + p.id(), s);
      }
    }
    Json pinfo = verbose_info(pst.info());
    ContainerTarget base;
    base.runtime = "cri";
    base.pod_id = p.id();
    base.pod_uid = p.metadata().uid();
    base.pod_namespace = p.metadata().namespace_();
    base.pod_name = p.metadata().name();
    base.pod_labels = to_map(p.labels());
    base.ip = pst.status().network().ip();
    // The pod's network namespace: the runtime's bind mount when it names one and it is the
    // namespace a container of the pod really is in; else that container's own.
    std::string from_proc = "/proc/" + std::to_string(members[0].pid) + "/ns/net";
    uint64_t inode = netns_inode(from_proc);
    std::string bind = spec_netns(pinfo);
    bool bind_ok = !bind.empty() && bind[0] == '/' && bind.find("..") == std::string::npos &&
                   netns_inode(bind) == inode;
    base.netns = bind_ok ? bind : from_proc;
    base.netns_inode = inode;

    if (sel.pod()) {
      base.pod = true;
      base.members = std::move(members);
      out.push_back(std::move(base));
    } else {
      for (auto& m : members) {
        ContainerTarget t = base;
        t.members = {std::move(m)};
        out.push_back(std::move(t));
      }
    }
  }
  return out;
}

Status CriRuntime::stop_container(const std::string& id, std::chrono::seconds grace) {
  cri::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(grace.count());
  cri::StopContainerResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + grace + kCallTimeout);
  grpc::Status s = stub_->rpc->StopContainer(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("StopContainer " + id, s);
  return Ok{};
}

Status CriRuntime::stop_pod(const std::string& pod_id) {
  cri::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(pod_id);
  cri::StopPodSandboxResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status s = stub_->rpc->StopPodSandbox(&ctx, req, &resp);
  if (!s.ok()) return rpc_error("StopPodSandbox " + pod_id, s);
  return Ok{};
}

}  // namespace faultline::injector
