// network_duplicate: send a share of the packets in the target's network scope twice.
#include "experiments/kinds/packet_mangle.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::experiments {
namespace {

FaultKind describe() {
  return packet_mangle_kind("network_duplicate", "Share of packets sent twice.",
                            "Duplicate packets.",
                            [](v1::FaultSpec& s) { return s.mutable_network_duplicate(); });
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
