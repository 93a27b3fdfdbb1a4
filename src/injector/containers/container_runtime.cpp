#include "injector/containers/container_runtime.h"

#include <fstream>
#include <sstream>

namespace faultline::injector {

namespace {

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

std::string join_labels(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

// "nginx:1.25" -> "nginx"; "registry:5000/app@sha256:..." -> "registry:5000/app".
std::string repository_of(const std::string& ref) {
  std::string r = ref.substr(0, ref.find('@'));
  size_t slash = r.rfind('/');
  size_t colon = r.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    r = r.substr(0, colon);
  return r;
}

// Docker Hub's implicit prefixes: "nginx" is "docker.io/library/nginx".
std::string without_hub_prefix(std::string repo) {
  for (const char* p : {"docker.io/library/", "docker.io/", "library/"})
    if (repo.rfind(p, 0) == 0) return repo.substr(std::string(p).size());
  return repo;
}

}  // namespace

std::string ContainerTarget::describe() const {
  if (pod) {
    std::string s = "pod " + pod_namespace + "/" + pod_name;
    if (members.size() == 1) s += " container " + members[0].name;
    return s;
  }
  if (members.empty()) return "container (none)";
  return "container " + members[0].name + " (" + short_id(members[0].id) + ")";
}

pb::TouchedContainer ContainerTarget::touched() const {
  pb::TouchedContainer t;
  t.set_runtime(runtime);
  if (!pod || members.size() == 1) {
    if (!members.empty()) {
      t.set_id(members[0].id);
      t.set_name(members[0].name);
      t.set_restart_count(members[0].restart_count);
    }
  }
  t.set_pod_id(pod_id);
  t.set_pod_uid(pod_uid);
  t.set_pod_namespace(pod_namespace);
  t.set_pod_name(pod_name);
  t.set_netns(netns);
  t.set_netns_inode(netns_inode);
  for (const auto& m : members) {
    t.add_cgroups(m.cgroup);
    auto* member = t.add_members();
    member->set_id(m.id);
    member->set_name(m.name);
    member->set_restart_count(m.restart_count);
  }
  t.set_ip(ip);
  if (pod) t.mutable_labels()->insert(pod_labels.begin(), pod_labels.end());
  if (!pod && !members.empty())
    t.mutable_labels()->insert(members[0].labels.begin(), members[0].labels.end());
  if (members.size() == 1) t.set_image(members[0].image);
  return t;
}

std::string describe_touched(const pb::TouchedContainer& t) {
  if (!t.pod_name().empty() && t.runtime() == "cri") {
    std::string s = "pod " + t.pod_namespace() + "/" + t.pod_name();
    if (!t.name().empty()) s += " container " + t.name();
    return s;
  }
  return "container " + t.name() + " (" + short_id(t.id()) + ")";
}

Result<std::string> process_cgroup(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  if (!in) return make_error(ErrorCode::kNotFound, "no process " + std::to_string(pid));
  std::string freezer, memory, unified;
  for (std::string line; std::getline(in, line);) {
    // hierarchy-id:controller-list:path
    size_t a = line.find(':');
    size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');) {
      if (c == "freezer") freezer = path;
      if (c == "memory") memory = path;
    }
    if (controllers.empty() && line.rfind("0:", 0) == 0) unified = path;
  }
  for (const std::string* p : {&freezer, &memory, &unified})
    if (!p->empty()) return *p;
  return make_error(ErrorCode::kNotFound, "process " + std::to_string(pid) + " has no cgroup");
}

bool labels_match(const std::map<std::string, std::string>& want,
                  const std::map<std::string, std::string>& have) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

bool image_matches(const std::string& want, const std::string& have) {
  if (want.empty()) return true;
  if (want == have) return true;
  bool want_has_version =
      want.find('@') != std::string::npos ||
      (want.rfind(':') != std::string::npos &&
       (want.rfind('/') == std::string::npos || want.rfind(':') > want.rfind('/')));
  if (want_has_version) return without_hub_prefix(want) == without_hub_prefix(have);
  return without_hub_prefix(repository_of(want)) == without_hub_prefix(repository_of(have));
}

std::string describe(const pb::ContainerSelector& s) {
  std::string out = s.pod() ? "pod" : "container";
  auto add = [&out](const std::string& k, const std::string& v) {
    if (!v.empty()) out += " " + k + "=" + v;
  };
  if (s.pod()) {
    add("namespace", s.pod_namespace());
    add("name", s.pod_name());
    if (!s.pod_labels().empty())
      add("labels", join_labels({s.pod_labels().begin(), s.pod_labels().end()}));
    add("id", short_id(s.pod_id()));
    add("container", s.name());
  } else {
    add("name", s.name());
    add("id", short_id(s.id()));
    add("image", s.image());
    if (!s.labels().empty()) add("labels", join_labels({s.labels().begin(), s.labels().end()}));
  }
  if (!s.runtime().empty() && s.runtime() != "auto") out += " (runtime " + s.runtime() + ")";
  return out;
}

}  // namespace faultline::injector
