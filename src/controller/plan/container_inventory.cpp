#include "controller/plan/container_inventory.h"

namespace faultline::controller {

pb::ContainerSelector container_selector_to_wire(const experiments::ContainerSelector& c) {
  pb::ContainerSelector out;
  out.set_runtime(c.runtime);
  out.set_id(c.id);
  out.set_name(c.name);
  out.set_image(c.image);
  out.mutable_labels()->insert(c.labels.begin(), c.labels.end());
  out.set_pod(c.pod);
  out.set_pod_namespace(c.pod_namespace);
  out.set_pod_name(c.pod_name);
  out.mutable_pod_labels()->insert(c.pod_labels.begin(), c.pod_labels.end());
  return out;
}

ContainerInventory list_container_targets(const experiments::Experiment& e,
                                          const std::vector<std::shared_ptr<InjectorLink>>& links) {
  struct Asked {
    std::string target, node;
    Reply<std::vector<pb::TouchedContainer>> reply;
  };
  std::vector<Asked> asked;
  for (const auto& t : e.targets) {
    if (!t.container) continue;
    pb::ContainerSelector selector = container_selector_to_wire(*t.container);
    for (const auto& link : links) {
      if (!link->connected()) continue;
      const InjectorInfo& info = link->info();
      bool selected = true;
      for (const auto& [k, v] : t.nodes.selector) {
        auto it = info.labels.find(k);
        if (it == info.labels.end() || it->second != v) selected = false;
      }
      if (selected)
        asked.push_back({t.name, info.node_name, link->start_list_containers(selector)});
    }
  }
  // Every question is out before the first answer is read: the slowest node sets the time.
  ContainerInventory inventory;
  for (auto& a : asked) {
    auto answer = a.reply.get();
    NodeContainers& slot = inventory[a.target][a.node];
    if (answer)
      slot.found = std::move(*answer);
    else
      slot.error = answer.error().message;
  }
  return inventory;
}

}  // namespace faultline::controller
