// The fault-kind table: one entry per kind, holding everything the pipeline needs to know
// about it — its name, its params (schema with defaults, typed struct, reader), what its
// target must provide, what it holds on a node (for conflicts between runs), and its wire
// form. The loader, planner, scope claims, reference doc and JSON Schema read this table;
// nothing else switches on kind names. Each kind lives in its own file under kinds/ and
// registers itself with FAULTLINE_REGISTER_FAULT_KIND; docs/architecture.md shows how to
// add one, and tests/unit/fault_kind_consistency_test.cpp fails when a layer lacks it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/param_values.h"
#include "experiments/schema.h"

namespace faultline::v1 {
class FaultSpec;
class ProcessSelector;
class NetworkScope;
}  // namespace faultline::v1

namespace faultline::experiments {

struct FaultSpec;
struct TargetSpec;
struct ProxyTarget;

// What a kind needs its target to define besides nodes. kUnset is no answer: a kind that
// leaves it fails the consistency test.
enum class TargetNeeds {
  kUnset,
  kNothing,
  kProcess,
  kNetwork,
  kInterface,
  kPaths,
  kContainer,
  kProxy
};

// What a fault of the kind holds on a node while it is applied. Two runs whose faults hold
// the same thing on one node conflict (controller/run/scope_claims).
enum class ScopeClass {
  kUnset,             // no answer: fails the consistency test
  kProcesses,         // the processes of the target's selector
  kNetworkNamespace,  // the whole network namespace (shared qdisc trees, queues, packets)
  kHostCpu,
  kHostMemory,
  kClock,  // the clock of the target's processes
  kPaths,  // each of the target's paths
  kProxy,  // the target's proxy (one proxy's toxics compose, but two runs must not share it)
};

// Whether a kind works on a container or pod target (`container:` / `pod:`), stated by every
// kind: a kind that says nothing fails the consistency test.
struct ContainerSupport {
  bool stated = false;
  bool works = false;
  std::string why_not;  // shown when an experiment puts the kind on a container target
};
inline ContainerSupport works_on_containers() {
  return {true, true, ""};
}
inline ContainerSupport not_on_containers(std::string why) {
  return {true, false, std::move(why)};
}

// The typed params of one kind; each kind derives its own struct.
struct KindParams {
  virtual ~KindParams() = default;
};
using KindParamsPtr = std::shared_ptr<const KindParams>;

// Where a kind reports a problem: `field` is relative to the fault ("params.offset",
// "duration", "params"); the loader turns it into file:line:col and the full field path.
class KindProblems {
 public:
  virtual ~KindProblems() = default;
  virtual void error(const std::string& field, const std::string& message) = 0;
};

// The target as the wire knows it, translated once for every kind.
struct WireTarget {
  const v1::ProcessSelector& selector;
  const v1::NetworkScope& scope;
  const std::vector<std::string>& paths;
  const ProxyTarget* proxy = nullptr;  // a proxy target's proxy, else null
};

struct FaultKind {
  std::string name;
  SchemaPtr params;  // keys, types, defaults and docs; the reference is generated from it
  TargetNeeds needs = TargetNeeds::kUnset;
  ScopeClass scope = ScopeClass::kUnset;
  ContainerSupport containers;
  // The typed params from values that passed the schema; may report what the schema cannot
  // say (a signed duration, a pair of keys of which one must be set).
  std::function<KindParamsPtr(const ParamValues&, KindProblems&)> read;
  // Optional: checks of the fault as a whole, after every target is read; `target` is null
  // when the fault names none that exists (that has its own error).
  std::function<void(const FaultSpec&, const TargetSpec* target, KindProblems&)> check;
  // Fills this kind's field of the wire FaultSpec (its oneof field has the kind's name).
  std::function<void(const KindParams&, const WireTarget&, v1::FaultSpec&)> to_wire;
  // Optional: the injector mechanism the fault asks for ("auto", "netem", "tbf").
  std::function<std::string(const KindParams&)> mechanism;
};

// Every registered kind, in the order of the wire's FaultSpec oneof (the order the docs use).
const std::vector<const FaultKind*>& fault_kinds();
const FaultKind* find_fault_kind(std::string_view name);
std::vector<std::string> fault_kind_names();

// The kind's typed params, or nullptr when `p` is of another kind.
template <typename T>
const T* params_as(const KindParamsPtr& p) {
  return dynamic_cast<const T*>(p.get());
}

namespace kind_registry {
// Called by FAULTLINE_REGISTER_FAULT_KIND during static initialisation. A second kind with
// the same name aborts at start-up: the table must never hold two answers.
bool add(FaultKind (*make)());
}  // namespace kind_registry

#define FAULTLINE_KIND_CONCAT_(a, b) a##b
#define FAULTLINE_KIND_NAME_(n) FAULTLINE_KIND_CONCAT_(faultline_kind_registered_, n)
#define FAULTLINE_REGISTER_FAULT_KIND(describe_fn)                       \
  [[maybe_unused]] static const bool FAULTLINE_KIND_NAME_(__COUNTER__) = \
      ::faultline::experiments::kind_registry::add(describe_fn)

}  // namespace faultline::experiments
