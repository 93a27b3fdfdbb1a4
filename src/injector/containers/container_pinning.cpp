#include "injector/containers/container_pinning.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <functional>

namespace faultline::injector {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Calls `visit` on every ProcessSelector and NetworkScope inside `msg`, whatever the kind: a
// new kind with a selector is covered without being named here.
void for_each_target(Message& msg, const std::function<void(Message&)>& visit) {
  const auto* desc = msg.GetDescriptor();
  const auto* refl = msg.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_map()) continue;
    const auto* type = f->message_type();
    bool target =
        type == pb::ProcessSelector::descriptor() || type == pb::NetworkScope::descriptor();
    if (f->is_repeated()) {
      for (int j = 0; j < refl->FieldSize(msg, f); ++j) {
        Message* m = refl->MutableRepeatedMessage(&msg, f, j);
        target ? visit(*m) : for_each_target(*m, visit);
      }
    } else if (refl->HasField(msg, f)) {
      Message* m = refl->MutableMessage(&msg, f);
      target ? visit(*m) : for_each_target(*m, visit);
    }
  }
}

std::string list_targets(const std::vector<ContainerTarget>& targets) {
  std::string out;
  for (size_t i = 0; i < targets.size() && i < 5; ++i)
    out += (i ? ", " : "") + targets[i].describe();
  if (targets.size() > 5) out += ", ...";
  return out;
}

Status pin_network(pb::NetworkScope& scope, ContainerRuntimes& runtimes,
                   std::vector<pb::TouchedContainer>& touched) {
  if (!scope.netns().empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "a network scope names either a netns or a container, not both");
  auto found = runtimes.find(scope.container());
  if (!found) return found.error();
  if (found->empty())
    return make_error(ErrorCode::kNotFound,
                      "no running " + describe(scope.container()) + " on this node");
  if (found->size() > 1)
    return make_error(ErrorCode::kFailedPrecondition,
                      describe(scope.container()) + " matches " + std::to_string(found->size()) +
                          " on this node (" + list_targets(*found) +
                          "); a network fault goes into one network namespace: narrow the "
                          "selector, or let the controller choose (mode)");
  const ContainerTarget& t = found->front();
  if (t.netns.empty() || t.netns_inode == 0)
    return make_error(ErrorCode::kNotFound, t.describe() + " has no network namespace");
  scope.set_netns(t.netns);
  touched.push_back(t.touched());
  return Ok{};
}

Status pin_processes(pb::ProcessSelector& sel, ContainerRuntimes& runtimes,
                     std::vector<pb::TouchedContainer>& touched) {
  if (!sel.cgroup().empty() || sel.pid() != 0 || !sel.pidfile().empty() ||
      !sel.pid_namespace().empty())
    return make_error(ErrorCode::kInvalidArgument,
                      "a container's processes are narrowed by name or cmdline only");
  sel.clear_container_cgroups();
  auto found = runtimes.find(sel.container());
  if (!found) return found.error();
  if (found->empty()) {
    if (sel.skip_if_empty()) return Ok{};
    return make_error(ErrorCode::kNotFound,
                      "no running " + describe(sel.container()) + " on this node");
  }
  std::vector<ContainerMember> all;
  for (const auto& t : *found) {
    for (const auto& m : t.members) {
      sel.add_container_cgroups(m.cgroup);
      all.push_back(m);
    }
    touched.push_back(t.touched());
  }
  // The freezer freezes one cgroup: a single container's. (A pod's parent cgroup also holds
  // its pause process, which the guard rails keep out of reach.)
  if (sel.name().empty() && sel.cmdline_regex().empty() && all.size() == 1)
    sel.set_cgroup(all[0].cgroup);
  return Ok{};
}

}  // namespace

bool names_containers(const pb::FaultSpec& spec) {
  // Read-only: asked on every apply, so no copy of the spec to walk.
  std::function<bool(const Message&)> any = [&any](const Message& msg) {
    if (const auto* s = dynamic_cast<const pb::ProcessSelector*>(&msg)) return s->has_container();
    if (const auto* n = dynamic_cast<const pb::NetworkScope*>(&msg)) return n->has_container();
    const auto* desc = msg.GetDescriptor();
    const auto* refl = msg.GetReflection();
    for (int i = 0; i < desc->field_count(); ++i) {
      const FieldDescriptor* f = desc->field(i);
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_map()) continue;
      if (f->is_repeated()) {
        for (int j = 0; j < refl->FieldSize(msg, f); ++j)
          if (any(refl->GetRepeatedMessage(msg, f, j))) return true;
      } else if (refl->HasField(msg, f) && any(refl->GetMessage(msg, f))) {
        return true;
      }
    }
    return false;
  };
  return any(spec);
}

Result<std::vector<pb::TouchedContainer>> pin_containers(pb::FaultSpec& spec,
                                                         ContainerRuntimes& runtimes) {
  std::vector<pb::TouchedContainer> touched;
  Status status = Ok{};
  for_each_target(spec, [&](Message& m) {
    if (!status) return;
    if (auto* s = dynamic_cast<pb::ProcessSelector*>(&m)) {
      if (s->has_container()) status = pin_processes(*s, runtimes, touched);
    } else if (auto* n = dynamic_cast<pb::NetworkScope*>(&m)) {
      if (n->has_container()) status = pin_network(*n, runtimes, touched);
    }
  });
  if (!status) return status.error();
  return touched;
}

}  // namespace faultline::injector
