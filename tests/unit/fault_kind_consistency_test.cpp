// Every fault kind is known to every layer, or this test names the layer that lacks it. The
// kind table (experiments/kinds), the wire (proto FaultSpec oneof), the injector's backend
// registry and policy, the scope claims, the reference doc and the valid corpus must agree.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "controller/run/fault_translation.h"
#include "experiments/kinds/fault_kind.h"
#include "injector/backend_registry.h"
#include "injector/fault_kind_name.h"

namespace faultline {
namespace {

const std::string kSource = FAULTLINE_SOURCE_DIR;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string valid_corpus() {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(kSource + "/tests/corpus/valid"))
    all += read(e.path().string());
  return all;
}

class NoProblems : public experiments::KindProblems {
 public:
  void error(const std::string&, const std::string&) override {}
};

// The wire form of a fault of `kind` with the params it gets when none are written.
v1::FaultSpec default_wire_form(const experiments::FaultKind& kind) {
  NoProblems ignore;
  auto params = kind.read(experiments::ParamValues(kind.params.get()), ignore);
  experiments::FaultSpec fault;
  fault.kind = kind.name;
  fault.params = params;
  experiments::TargetSpec target;
  target.process = experiments::ProcessSelector{.name = "app"};
  target.network = experiments::NetworkScope{.interface = "eth0"};
  target.paths = {"/var/lib/app"};
  return controller::to_wire(fault, target);
}

TEST(FaultKindConsistency, TheTableIsNotEmptyAndNamesAreUnique) {
  auto names = experiments::fault_kind_names();
  EXPECT_GE(names.size(), 16u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

TEST(FaultKindConsistency, EveryKindIsKnownToEveryLayer) {
  const std::string reference = read(kSource + "/docs/experiment-reference.md");
  const std::string corpus = valid_corpus();
  for (const experiments::FaultKind* kind : experiments::fault_kinds()) {
    SCOPED_TRACE("fault kind " + kind->name);
    // The table entry itself.
    ASSERT_TRUE(kind->params) << "no params schema";
    EXPECT_TRUE(kind->read) << "no params reader";
    EXPECT_TRUE(kind->to_wire) << "no wire form (FaultKind::to_wire)";
    EXPECT_NE(kind->needs, experiments::TargetNeeds::kUnset)
        << "does not say what its target needs (FaultKind::needs)";
    EXPECT_NE(kind->scope, experiments::ScopeClass::kUnset)
        << "has no scope class for conflict detection (FaultKind::scope)";
    EXPECT_TRUE(kind->containers.stated)
        << "does not say whether it works on a container or pod target (FaultKind::containers)";
    if (kind->containers.stated && !kind->containers.works) {
      EXPECT_FALSE(kind->containers.why_not.empty()) << "refuses containers without a reason";
    }
    // Defaults are parsed when read, so each must parse.
    for (const auto& p : kind->params->properties) {
      if (p.schema->default_text.empty()) continue;
      EXPECT_TRUE(experiments::parse_scalar(*p.schema, p.schema->default_text).ok())
          << "default of " << p.name << " does not parse: " << p.schema->default_text;
    }

    // The wire: a oneof field of FaultSpec named after the kind, which to_wire sets.
    EXPECT_TRUE(controller::has_wire_form(kind->name))
        << "no field named " << kind->name << " in the FaultSpec oneof (proto/faults.proto)";
    v1::FaultSpec wire;
    if (kind->read && kind->to_wire) wire = default_wire_form(*kind);
    EXPECT_EQ(injector::fault_kind_name(wire), kind->name)
        << "to_wire does not set the FaultSpec field of its own kind";

    // The injector: a registered backend, and a policy rule (what a fault touches).
    const injector::BackendRegistration* backend = injector::find_backend_registration(kind->name);
    ASSERT_NE(backend, nullptr) << "no injector backend registered (FAULTLINE_REGISTER_BACKEND)";
    EXPECT_TRUE(backend->make) << "backend registration cannot build the backend";
    ASSERT_TRUE(backend->reach) << "backend registration says nothing the policy can judge";
    injector::FaultReach reach = backend->reach(wire);
    EXPECT_TRUE(!reach.empty() || reach.node_wide)
        << "the policy cannot tell what a " << kind->name << " fault touches";

    // Docs and examples.
    EXPECT_NE(reference.find("\n### " + kind->name + "\n"), std::string::npos)
        << "no section in docs/experiment-reference.md (regenerate it: faultline schema "
           "--format markdown)";
    EXPECT_NE(corpus.find("kind: " + kind->name), std::string::npos)
        << "no case in tests/corpus/valid/";
  }
}

TEST(FaultKindConsistency, EveryWireKindAndEveryBackendHasATableEntry) {
  for (const auto& name : injector::all_fault_kinds())
    EXPECT_NE(experiments::find_fault_kind(name), nullptr)
        << "FaultSpec field " << name << " has no entry in the fault-kind table";
  for (const auto& r : injector::registered_backends())
    EXPECT_NE(experiments::find_fault_kind(r.kind), nullptr)
        << "backend registered for " << r.kind << ", a kind the table does not know";
}

TEST(FaultKindConsistency, TheEngineBuildsOneBackendPerRegisteredKind) {
  auto backends = injector::make_registered_backends();
  ASSERT_EQ(backends.size(), injector::registered_backends().size());
  for (size_t i = 0; i < backends.size(); ++i)
    EXPECT_EQ(backends[i]->kind(), injector::registered_backends()[i].kind);
}

}  // namespace
}  // namespace faultline
