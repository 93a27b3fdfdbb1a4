// `faultline halt --reason TEXT` and `faultline unhalt`: the fleet's halt switch on a
// faultline-controller (operator to pull it, admin to lift it).
#pragma once

#include <string>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::cli {

// Aborts every run, reverts every fault on every node, and refuses new runs and schedule fires
// until lifted; prints what was done. Exit: 0 done; 3 refused, unreachable, or some fault not
// confirmed reverted or the halt not stored (said why).
int halt_fleet(const std::string& controller, const std::string& reason);
// Exit: 0 lifted; 3 refused (not an admin, not halted) or unreachable.
int unhalt_fleet(const std::string& controller);

// "FLEET HALTED by alice at 2026-12-07T20:31:05.000Z: drill (faultline unhalt lifts it)", or ""
// when the fleet is not halted: the first line of `runs` and `injectors`.
std::string halt_banner(const v1::HaltState& h);

}  // namespace faultline::cli
