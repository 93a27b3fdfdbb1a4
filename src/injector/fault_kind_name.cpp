#include "injector/fault_kind_name.h"

namespace faultline::injector {

std::string fault_kind_name(const ::faultline::v1::FaultSpec& spec) {
  const auto* oneof = ::faultline::v1::FaultSpec::descriptor()->FindOneofByName("kind");
  const auto* field = spec.GetReflection()->GetOneofFieldDescriptor(spec, oneof);
  return field ? field->name() : "";
}

std::vector<std::string> all_fault_kinds() {
  std::vector<std::string> kinds;
  const auto* oneof = ::faultline::v1::FaultSpec::descriptor()->FindOneofByName("kind");
  for (int i = 0; i < oneof->field_count(); ++i) kinds.push_back(oneof->field(i)->name());
  return kinds;
}

}  // namespace faultline::injector
