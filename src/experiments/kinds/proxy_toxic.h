// proxy_toxic: a toxic on a TCP fault proxy of the node (`faultline proxy`, or Toxiproxy),
// added through the proxy's API and taken back at the end; or the proxy down. The faulting is
// the proxy's, so the fault needs no privileges: the kind for CI jobs without root.
#pragma once

#include <map>
#include <string>

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct ProxyToxicParams : KindParams {
  std::string type;    // a toxic type, or "down"
  std::string stream;  // upstream | downstream
  double toxicity = 1;
  std::map<std::string, std::string> attributes;
};

}  // namespace faultline::experiments
