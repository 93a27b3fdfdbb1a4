// What network_duplicate and network_corrupt share: a share of packets, its correlation and
// the backend; on the wire both are a NetworkPacketMangle.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::v1 {
class NetworkPacketMangle;
}

namespace faultline::experiments {

struct PacketMangleParams : KindParams {
  double fraction = 0;
  double correlation = 0;
  std::string backend;
};

// The kind entry of a packet-mangling kind; `field` picks its oneof field in the FaultSpec.
FaultKind packet_mangle_kind(std::string name, std::string percent_doc, std::string doc,
                             v1::NetworkPacketMangle* (*field)(v1::FaultSpec&));

}  // namespace faultline::experiments
