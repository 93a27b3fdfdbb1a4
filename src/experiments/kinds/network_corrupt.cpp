// network_corrupt: flip one byte in a share of the packets in the target's network scope.
#include "experiments/kinds/packet_mangle.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::experiments {
namespace {

FaultKind describe() {
  return packet_mangle_kind("network_corrupt", "Share of packets with one byte flipped.",
                            "Corrupt packets.",
                            [](v1::FaultSpec& s) { return s.mutable_network_corrupt(); });
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
