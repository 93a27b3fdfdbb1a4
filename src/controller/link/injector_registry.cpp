#include "controller/link/injector_registry.h"

#include <algorithm>

#include "common/log.h"

namespace faultline::controller {

void InjectorRegistry::add(std::shared_ptr<InjectorLink> link) {
  std::lock_guard lock(mu_);
  const std::string& name = link->info().node_name;
  std::erase_if(links_, [&](const auto& l) { return l->info().node_name == name; });
  links_.push_back(std::move(link));
  std::sort(links_.begin(), links_.end(),
            [](const auto& a, const auto& b) { return a->info().node_name < b->info().node_name; });
  spdlog::info("injector registered node={}", name);
}

void InjectorRegistry::remove(const InjectorLink* link) {
  std::lock_guard lock(mu_);
  auto n = std::erase_if(links_, [&](const auto& l) { return l.get() == link; });
  if (n) spdlog::info("injector unregistered node={}", link->info().node_name);
}

std::vector<std::shared_ptr<InjectorLink>> InjectorRegistry::all() const {
  std::lock_guard lock(mu_);
  return links_;
}

std::shared_ptr<InjectorLink> InjectorRegistry::find(const std::string& node_name) const {
  std::lock_guard lock(mu_);
  for (const auto& l : links_)
    if (l->info().node_name == node_name) return l;
  return nullptr;
}

}  // namespace faultline::controller
