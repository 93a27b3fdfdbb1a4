// Turns controller commands (apply, revert, renew) into engine calls and acks. Both the
// gRPC stream and the in-process link go through here, so both behave the same.
#pragma once

#include "faultline/v1/injector_link.pb.h"
#include "injector/fault_engine.h"

namespace faultline::injector {

// Handles one command; returns the ack to send back (command_id and fault_id filled in).
pb::FaultAck handle_command(FaultEngine& engine, const pb::ControllerMessage& command);

}  // namespace faultline::injector
