// A trace SLI as a probe: fails while the SLI is past a threshold with enough spans to say so.
#pragma once

#include "controller/watch/probe.h"
#include "controller/watch/traces/sli_store.h"
#include "controller/watch/traces/span_poller.h"

namespace faultline::controller {

class TracesProbe : public Probe {
 public:
  // With a poller (Jaeger/Zipkin source), the probe fails while the API cannot be read: an SLI
  // nobody can see is not a passing one.
  TracesProbe(std::string name, experiments::SliCondition condition, SliStore& store,
              const SpanPoller* poller = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::SliCondition condition_;
  SliStore& store_;
  const SpanPoller* poller_;
};

}  // namespace faultline::controller
