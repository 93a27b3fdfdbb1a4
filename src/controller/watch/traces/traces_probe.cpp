#include "controller/watch/traces/traces_probe.h"

#include "controller/watch/traces/sli_verdict.h"

namespace faultline::controller {

TracesProbe::TracesProbe(std::string name, experiments::SliCondition condition, SliStore& store)
    : name_(std::move(name)), condition_(std::move(condition)), store_(store) {
  store_.watch(condition_.service, condition_.span, condition_.window);
}

ProbeOutcome TracesProbe::run() {
  auto start = MonoClock::now();
  SliVerdict v = evaluate_sli(condition_,
                              store_.stats(condition_.service, condition_.span, condition_.window));
  std::string series = condition_.service + (condition_.span.empty() ? "" : "/" + condition_.span);
  return {!v.breached, series + ": " + v.observed, MonoClock::now() - start};
}

}  // namespace faultline::controller
