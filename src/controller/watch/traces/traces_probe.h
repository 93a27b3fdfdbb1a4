// A trace SLI as a probe: fails while the SLI is past a threshold with enough spans to say so.
#pragma once

#include "controller/watch/probe.h"
#include "controller/watch/traces/sli_store.h"

namespace faultline::controller {

class TracesProbe : public Probe {
 public:
  TracesProbe(std::string name, experiments::SliCondition condition, SliStore& store);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::SliCondition condition_;
  SliStore& store_;
};

}  // namespace faultline::controller
