#include "injector/containers/container_runtimes.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "injector/containers/cri_runtime.h"
#include "injector/containers/docker_runtime.h"

namespace faultline::injector {

namespace {

std::string first_existing(std::initializer_list<const char*> paths) {
  std::error_code ec;
  for (const char* p : paths)
    if (std::filesystem::exists(p, ec)) return p;
  return "";
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

}  // namespace

ContainerRuntimeConfig ContainerRuntimeConfig::from_environment() {
  ContainerRuntimeConfig c;
  c.cri_socket = env_or("FAULTLINE_CRI_SOCKET",
                        first_existing({"/run/containerd/containerd.sock", "/run/crio/crio.sock"}));
  c.docker_socket = env_or("FAULTLINE_DOCKER_SOCKET", first_existing({"/var/run/docker.sock"}));
  return c;
}

ContainerRuntimes::ContainerRuntimes(ContainerRuntimeConfig config) : config_(std::move(config)) {
  if (!config_.cri_socket.empty())
    runtimes_.push_back(std::make_shared<CriRuntime>(config_.cri_socket));
  if (!config_.docker_socket.empty())
    runtimes_.push_back(std::make_shared<DockerRuntime>(config_.docker_socket));
}

ContainerRuntimes::ContainerRuntimes(std::vector<std::shared_ptr<ContainerRuntime>> runtimes)
    : runtimes_(std::move(runtimes)) {}

namespace {
std::mutex shared_mu;
std::shared_ptr<ContainerRuntimes> shared_runtimes;
}  // namespace

std::shared_ptr<ContainerRuntimes> ContainerRuntimes::shared() {
  std::lock_guard lock(shared_mu);
  if (!shared_runtimes)
    shared_runtimes =
        std::make_shared<ContainerRuntimes>(ContainerRuntimeConfig::from_environment());
  return shared_runtimes;
}

void ContainerRuntimes::set_shared(std::shared_ptr<ContainerRuntimes> runtimes) {
  std::lock_guard lock(shared_mu);
  shared_runtimes = std::move(runtimes);
}

Result<std::shared_ptr<ContainerRuntime>> ContainerRuntimes::runtime(const std::string& name) {
  for (const auto& r : runtimes_)
    if (r->name() == name) return r;
  return make_error(ErrorCode::kFailedPrecondition,
                    "this injector has no " + name + " runtime configured (" +
                        (name == "cri" ? "--cri-socket or FAULTLINE_CRI_SOCKET"
                                       : "--docker-socket or FAULTLINE_DOCKER_SOCKET") +
                        "; it looked for " +
                        (name == "cri" ? "/run/containerd/containerd.sock, /run/crio/crio.sock"
                                       : "/var/run/docker.sock") +
                        ")");
}

namespace {

// A controller that chose among every node's matches names the chosen ones by id.
std::vector<ContainerTarget> only_chosen(std::vector<ContainerTarget> found,
                                         const pb::ContainerSelector& sel) {
  if (sel.ids().empty()) return found;
  std::erase_if(found, [&sel](const ContainerTarget& t) {
    const std::string& id = t.pod ? t.pod_id : (t.members.empty() ? "" : t.members[0].id);
    return std::find(sel.ids().begin(), sel.ids().end(), id) == sel.ids().end();
  });
  return found;
}

}  // namespace

Result<std::vector<ContainerTarget>> ContainerRuntimes::find(const pb::ContainerSelector& sel) {
  auto found = find_all(sel);
  if (!found) return found.error();
  return only_chosen(std::move(*found), sel);
}

Result<std::vector<ContainerTarget>> ContainerRuntimes::find_all(const pb::ContainerSelector& sel) {
  std::string want = sel.runtime().empty() ? "auto" : sel.runtime();
  if (want != "auto") {
    auto r = runtime(want);
    if (!r) return r.error();
    return (*r)->find(sel);
  }
  if (sel.pod()) {  // only the CRI knows pods
    auto r = runtime("cri");
    if (!r) return r.error();
    return (*r)->find(sel);
  }
  if (runtimes_.empty())
    return make_error(ErrorCode::kFailedPrecondition,
                      "this injector has no container runtime configured (--cri-socket, "
                      "--docker-socket; it looked for /run/containerd/containerd.sock, "
                      "/run/crio/crio.sock and /var/run/docker.sock)");
  std::vector<ContainerTarget> all;
  std::string errors;
  size_t answered = 0;
  for (const auto& r : runtimes_) {
    auto found = r->find(sel);
    if (!found) {
      if (found.error().code == ErrorCode::kInvalidArgument) return found.error();
      errors += (errors.empty() ? "" : "; ") + found.error().message;
      continue;
    }
    ++answered;
    for (auto& t : *found) all.push_back(std::move(t));
  }
  if (answered == 0)
    return make_error(ErrorCode::kUnavailable,
                      "no container runtime answered: " +
                          (errors.empty() ? std::string("none configured") : errors));
  return all;
}

std::string ContainerRuntimes::describe() const {
  return "cri:" + (config_.cri_socket.empty() ? "-" : config_.cri_socket) +
         " docker:" + (config_.docker_socket.empty() ? "-" : config_.docker_socket);
}

}  // namespace faultline::injector
