#include "injector/containers/docker_runtime.h"

#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>

#include "injector/bounded_http.h"
#include "injector/network/netns.h"

namespace faultline::injector {

using Json = nlohmann::json;

namespace {

constexpr auto kCallTimeout = std::chrono::milliseconds(3000);
constexpr const char* kApi = "/v1.41";

bool is_hex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<Json> get_json(const std::string& socket, const std::string& target) {
  auto r = unix_http(socket, "GET", target, kCallTimeout);
  if (!r) return r.error();
  if (r->status == 404) return make_error(ErrorCode::kNotFound, "Docker: " + target + ": 404");
  if (r->status != 200)
    return make_error(ErrorCode::kUnavailable,
                      "Docker: GET " + target + ": HTTP " + std::to_string(r->status));
  Json j = Json::parse(r->body, nullptr, false);
  if (j.is_discarded())
    return make_error(ErrorCode::kUnavailable, "Docker: " + target + ": bad JSON");
  return j;
}

std::map<std::string, std::string> string_map(const Json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

DockerRuntime::DockerRuntime(std::string socket)
    : socket_(socket.rfind("unix://", 0) == 0 ? socket.substr(7) : std::move(socket)) {}

Status DockerRuntime::ping() {
  auto r = unix_http(socket_, "GET", "/_ping", kCallTimeout, 1024);
  if (!r) return r.error();
  if (r->status != 200)
    return make_error(ErrorCode::kUnavailable, "Docker /_ping: HTTP " + std::to_string(r->status));
  return Ok{};
}

Result<std::vector<ContainerTarget>> DockerRuntime::find(const pb::ContainerSelector& sel) {
  if (sel.pod())
    return make_error(ErrorCode::kInvalidArgument,
                      "pods are found through the CRI, not Docker (runtime: cri or auto)");
  if (!sel.id().empty() && (sel.id().size() < 12 || !is_hex(sel.id())))
    return make_error(ErrorCode::kInvalidArgument,
                      "container id '" + sel.id() + "' is not 12 or more hex digits");
  // The daemon filters by label and state; names and images are matched here exactly.
  Json filters = {{"status", {"running"}}};
  for (const auto& [k, v] : sel.labels()) filters["label"].push_back(k + "=" + v);
  if (!sel.id().empty()) filters["id"] = {sel.id()};
  auto list = get_json(
      socket_, std::string(kApi) + "/containers/json?filters=" + url_encode(filters.dump()));
  if (!list) return list.error();
  if (!list->is_array()) return make_error(ErrorCode::kUnavailable, "Docker: list is not an array");

  std::vector<ContainerTarget> out;
  for (const auto& c : *list) {
    std::string id = str(c, "Id");
    if (!is_hex(id)) continue;
    if (!sel.name().empty()) {
      bool named = false;
      const Json names = c.value("Names", Json::array());
      for (const auto& n : names)
        if (n.is_string() && (n.get<std::string>() == "/" + sel.name())) named = true;
      if (!named) continue;
    }
    if (!image_matches(sel.image(), str(c, "Image"))) continue;
    auto inspect = get_json(socket_, std::string(kApi) + "/containers/" + id + "/json");
    if (!inspect) {
      if (inspect.error().code == ErrorCode::kNotFound) continue;  // removed meanwhile
      return inspect.error();
    }
    const Json& state = (*inspect)["State"];
    if (!state.is_object() || !state.value("Running", false)) continue;
    ContainerMember m;
    m.id = id;
    m.name = str(*inspect, "Name");
    if (!m.name.empty() && m.name[0] == '/') m.name.erase(0, 1);
    m.image = str(c, "Image");
    m.labels = string_map((*inspect)["Config"].value("Labels", Json::object()));
    m.pid = state.value("Pid", 0);
    m.restart_count = inspect->value("RestartCount", 0u);
    if (m.pid <= 1) continue;
    auto cg = process_cgroup(m.pid);
    if (!cg) continue;
    m.cgroup = *cg;

    ContainerTarget t;
    t.runtime = "docker";
    const Json& net = (*inspect)["NetworkSettings"];
    std::string from_proc = "/proc/" + std::to_string(m.pid) + "/ns/net";
    t.netns_inode = netns_inode(from_proc);
    std::string key = net.is_object() ? str(net, "SandboxKey") : "";
    bool key_ok = !key.empty() && key[0] == '/' && key.find("..") == std::string::npos &&
                  netns_inode(key) == t.netns_inode;
    t.netns = key_ok ? key : from_proc;
    if (net.is_object()) {
      t.ip = str(net, "IPAddress");
      // A named variable: items() of a temporary would dangle in the loop.
      const Json networks = net.value("Networks", Json::object());
      if (t.ip.empty() && networks.is_object())
        for (const auto& n : networks)
          if (n.is_object() && !str(n, "IPAddress").empty()) t.ip = str(n, "IPAddress");
    }
    t.members.push_back(std::move(m));
    out.push_back(std::move(t));
  }
  return out;
}

// Not through Docker's stop or kill endpoints: Docker marks a container stopped or killed
// through its API as stopped by a user, and its restart policy then never brings it back. A
// crash is what this imitates, so the container's first process gets the signals itself
// (through a pidfd, so a reused PID is never hit): SIGTERM, then SIGKILL after the grace.
Status DockerRuntime::stop_container(const std::string& id, std::chrono::seconds grace) {
  if (!is_hex(id)) return make_error(ErrorCode::kInvalidArgument, "bad container id " + id);
  auto inspect = get_json(socket_, std::string(kApi) + "/containers/" + id + "/json");
  if (!inspect) return inspect.error();
  const Json& state = (*inspect)["State"];
  pid_t pid = state.is_object() ? state.value("Pid", 0) : 0;
  if (pid <= 1 || !state.value("Running", false)) return Ok{};  // not running: nothing to stop
  // The daemon's word, checked against the kernel's: the PID must be in this container's cgroup.
  auto cg = process_cgroup(pid);
  if (!cg || cg->find(id) == std::string::npos)
    return make_error(ErrorCode::kFailedPrecondition,
                      "pid " + std::to_string(pid) + " is not in container " + id.substr(0, 12));
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return errno == ESRCH ? Status(Ok{})
                          : Status(make_error(ErrorCode::kInternal,
                                              std::string("pidfd_open: ") + std::strerror(errno)));
  auto send = [fd](int sig) { return ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) == 0; };
  auto exited = [fd] {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;  // a pidfd is readable once its process has exited
  };
  if (grace.count() > 0 && send(SIGTERM)) {
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline && !exited())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited()) send(SIGKILL);
  ::close(fd);
  return Ok{};
}

Status DockerRuntime::stop_pod(const std::string& pod_id) {
  return make_error(ErrorCode::kInvalidArgument, "Docker has no pods (pod " + pod_id + ")");
}

}  // namespace faultline::injector
