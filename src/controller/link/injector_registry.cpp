#include "controller/link/injector_registry.h"

#include <algorithm>

#include "common/log.h"

namespace faultline::controller {
namespace {

// links_ stays sorted by name: a registration is one binary search and one insert, not a
// sort, which matters when ten thousand injectors connect.
template <typename Links>
auto position(Links& links, const std::string& name) {
  return std::lower_bound(
      links.begin(), links.end(), name,
      [](const auto& l, const std::string& n) { return l->info().node_name < n; });
}

}  // namespace

void InjectorRegistry::add(std::shared_ptr<InjectorLink> link) {
  std::lock_guard lock(mu_);
  const std::string name = link->info().node_name;
  auto at = position(links_, name);
  if (at != links_.end() && (*at)->info().node_name == name)
    *at = std::move(link);
  else
    links_.insert(at, std::move(link));
  spdlog::info("injector registered node={}", name);
}

void InjectorRegistry::remove(const InjectorLink* link) {
  std::lock_guard lock(mu_);
  auto at = position(links_, link->info().node_name);
  if (at == links_.end() || at->get() != link) return;
  links_.erase(at);
  spdlog::info("injector unregistered node={}", link->info().node_name);
}

std::vector<std::shared_ptr<InjectorLink>> InjectorRegistry::all() const {
  std::lock_guard lock(mu_);
  return links_;
}

std::shared_ptr<InjectorLink> InjectorRegistry::find(const std::string& node_name) const {
  std::lock_guard lock(mu_);
  auto at = position(links_, node_name);
  return at != links_.end() && (*at)->info().node_name == node_name ? *at : nullptr;
}

}  // namespace faultline::controller
