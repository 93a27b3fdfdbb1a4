// Fault backends register themselves here, the way Envoy extensions register a factory: a
// backend's own file says which kind it serves, how to build it and what a fault of that kind
// touches. The engine builds every registered backend; the injector policy asks the
// registration what a fault reaches instead of switching on kinds. Adding a backend touches
// no file but its own (and the CMake source list).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "injector/fault_backend.h"

namespace faultline::injector {

// What a fault touches on this node, for the injector policy. A kind whose faults touch
// nothing the policy can name (cpu, memory) says node_wide: its kind is the whole rule.
struct FaultReach {
  struct Processes {
    pb::ProcessSelector selector;
    // Why the fault picks its processes again after the policy looked ("" when it does not):
    // then the selector itself must be one no rule-breaking process can ever match.
    std::string chosen_later;
  };
  std::vector<Processes> processes;
  std::vector<pb::NetworkScope> networks;
  std::vector<std::string> paths;
  // Proxies on this node's loopback ("redis at 127.0.0.1:8474"): a proxy_toxic touches only
  // the proxy, whose faulting needs no privileges, so its kind is the whole policy rule.
  std::vector<std::string> proxies;
  bool node_wide = false;

  bool empty() const {
    return processes.empty() && networks.empty() && paths.empty() && proxies.empty();
  }
};

// What the backends built together share (one shaping registry for every shaping kind).
class BackendContext {
 public:
  template <typename T>
  std::shared_ptr<T> shared() {
    auto& slot = shared_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>();
    return std::static_pointer_cast<T>(slot);
  }

 private:
  std::map<std::type_index, std::shared_ptr<void>> shared_;
};

struct BackendRegistration {
  std::string kind;
  std::function<std::unique_ptr<FaultBackend>(BackendContext&)> make;
  std::function<FaultReach(const pb::FaultSpec&)> reach;
};

namespace backend_registry {
// Called by FAULTLINE_REGISTER_BACKEND during static initialisation.
bool add(BackendRegistration (*describe)());
}  // namespace backend_registry

// Every registered backend, in FaultSpec oneof order. Two registrations of one kind abort at
// start-up: the engine must never hold two answers.
const std::vector<BackendRegistration>& registered_backends();
const BackendRegistration* find_backend_registration(const std::string& kind);

// Builds one of each registered backend, sharing one context.
std::vector<std::unique_ptr<FaultBackend>> make_registered_backends();

#define FAULTLINE_BACKEND_CONCAT_(a, b) a##b
#define FAULTLINE_BACKEND_NAME_(n) FAULTLINE_BACKEND_CONCAT_(faultline_backend_registered_, n)
#define FAULTLINE_REGISTER_BACKEND(describe_fn)                             \
  [[maybe_unused]] static const bool FAULTLINE_BACKEND_NAME_(__COUNTER__) = \
      ::faultline::injector::backend_registry::add(describe_fn)

}  // namespace faultline::injector
