// The injectors the controller can reach right now, by node name.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/link/injector_link.h"

namespace faultline::controller {

class InjectorRegistry {
 public:
  // A second injector with the same node name replaces the first.
  void add(std::shared_ptr<InjectorLink> link);
  // Removes `link` only if it is still the one registered under its name.
  void remove(const InjectorLink* link);
  std::vector<std::shared_ptr<InjectorLink>> all() const;  // sorted by node name
  std::shared_ptr<InjectorLink> find(const std::string& node_name) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<InjectorLink>> links_;
};

}  // namespace faultline::controller
