#include "experiments/kinds/fault_kind.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "faultline/v1/faults.pb.h"

namespace faultline::experiments {
namespace {

std::vector<FaultKind (*)()>& makers() {
  // Constructed on first use: registrations run during static initialisation, in any order.
  static std::vector<FaultKind (*)()> m;
  return m;
}

// Position of the kind in the wire's FaultSpec oneof; kinds without a wire form sort last
// (and the consistency test names them).
int wire_order(const std::string& name) {
  const auto* field = v1::FaultSpec::descriptor()->FindFieldByName(name);
  return field && field->containing_oneof() ? field->number() : std::numeric_limits<int>::max();
}

std::vector<FaultKind> build() {
  std::vector<FaultKind> kinds;
  for (auto make : makers()) kinds.push_back(make());
  std::stable_sort(kinds.begin(), kinds.end(), [](const FaultKind& a, const FaultKind& b) {
    return std::pair(wire_order(a.name), a.name) < std::pair(wire_order(b.name), b.name);
  });
  for (size_t i = 1; i < kinds.size(); ++i)
    if (kinds[i].name == kinds[i - 1].name) {
      std::fprintf(stderr, "faultline: fault kind \"%s\" is registered twice\n",
                   kinds[i].name.c_str());
      std::abort();
    }
  return kinds;
}

}  // namespace

bool kind_registry::add(FaultKind (*make)()) {
  makers().push_back(make);
  return true;
}

const std::vector<const FaultKind*>& fault_kinds() {
  static const std::vector<FaultKind> kinds = build();
  static const std::vector<const FaultKind*> pointers = [] {
    std::vector<const FaultKind*> out;
    for (const auto& k : kinds) out.push_back(&k);
    return out;
  }();
  return pointers;
}

const FaultKind* find_fault_kind(std::string_view name) {
  for (const FaultKind* k : fault_kinds())
    if (k->name == name) return k;
  return nullptr;
}

std::vector<std::string> fault_kind_names() {
  std::vector<std::string> out;
  for (const FaultKind* k : fault_kinds()) out.push_back(k->name);
  return out;
}

}  // namespace faultline::experiments
