// What a run faults, as claims on (node, scope). Two runs whose claims overlap would fault
// the same thing at once, and their results would mean nothing (and their reverts could
// fight), so the controller lets only one hold a scope at a time.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/plan/planner.h"
#include "experiments/model.h"

namespace faultline::controller {

struct ScopeClaim {
  std::string node;
  // "network netns=<ns>", "process name=<x>", "host cpu", "path /data" ...
  std::string scope;
  std::string fault;  // the fault that needs it, for messages
};

std::vector<ScopeClaim> claims_of(const experiments::Experiment& experiment, const Plan& plan);

class ScopeClaims {
 public:
  struct Holder {
    std::string run_id;
    std::string experiment;
    ScopeClaim claim;  // the holder's claim that overlaps
  };
  // The first run holding something `wanted` needs, if any.
  std::optional<Holder> conflict(const std::vector<ScopeClaim>& wanted) const;
  void hold(const std::string& run_id, const std::string& experiment,
            std::vector<ScopeClaim> claims);
  void release(const std::string& run_id);

 private:
  struct Held {
    std::string experiment;
    std::vector<ScopeClaim> claims;
  };
  mutable std::mutex mu_;
  std::map<std::string, Held> held_;  // by run id
};

// "run r-123 (experiment \"x\") holds web-1 network netns=default for its fault \"delay\""
std::string describe(const ScopeClaims::Holder& h);

}  // namespace faultline::controller
