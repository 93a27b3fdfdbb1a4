#include "injector/backend_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace faultline::injector {
namespace {

std::vector<BackendRegistration (*)()>& describers() {
  // Constructed on first use: registrations run during static initialisation, in any order.
  static std::vector<BackendRegistration (*)()> d;
  return d;
}

int wire_order(const std::string& kind) {
  const auto* field = pb::FaultSpec::descriptor()->FindFieldByName(kind);
  return field && field->containing_oneof() ? field->number() : std::numeric_limits<int>::max();
}

}  // namespace

bool backend_registry::add(BackendRegistration (*describe)()) {
  describers().push_back(describe);
  return true;
}

const std::vector<BackendRegistration>& registered_backends() {
  static const std::vector<BackendRegistration> all = [] {
    std::vector<BackendRegistration> out;
    for (auto describe : describers()) out.push_back(describe());
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::pair(wire_order(a.kind), a.kind) < std::pair(wire_order(b.kind), b.kind);
    });
    for (size_t i = 1; i < out.size(); ++i)
      if (out[i].kind == out[i - 1].kind) {
        std::fprintf(stderr, "faultline-injector: two backends registered for %s\n",
                     out[i].kind.c_str());
        std::abort();
      }
    return out;
  }();
  return all;
}

const BackendRegistration* find_backend_registration(const std::string& kind) {
  for (const auto& r : registered_backends())
    if (r.kind == kind) return &r;
  return nullptr;
}

std::vector<std::unique_ptr<FaultBackend>> make_registered_backends() {
  BackendContext context;
  std::vector<std::unique_ptr<FaultBackend>> out;
  for (const auto& r : registered_backends()) out.push_back(r.make(context));
  return out;
}

}  // namespace faultline::injector
