#include "controller/watch/traces/traces_probe.h"

#include "controller/watch/traces/sli_verdict.h"

namespace faultline::controller {

TracesProbe::TracesProbe(std::string name, experiments::SliCondition condition, SliStore& store,
                         const SpanPoller* poller)
    : name_(std::move(name)), condition_(std::move(condition)), store_(store), poller_(poller) {
  store_.watch(condition_.service, condition_.span, condition_.window);
}

ProbeOutcome TracesProbe::run() {
  auto start = MonoClock::now();
  if (poller_) {
    if (std::string error = poller_->last_error(); !error.empty())
      return {false, "cannot read spans: " + error, MonoClock::now() - start};
  }
  SliVerdict v = evaluate_sli(condition_,
                              store_.stats(condition_.service, condition_.span, condition_.window));
  std::string series = condition_.service + (condition_.span.empty() ? "" : "/" + condition_.span);
  ProbeOutcome out{!v.breached, series + ": " + v.observed, MonoClock::now() - start};
  out.value = v.value;
  out.threshold = v.threshold;
  out.unit = v.unit;
  return out;
}

}  // namespace faultline::controller
