// The controller's fault metrics, taken at the injector link: a real fault engine behind the
// in-process link pauses a real process. Read as deltas: other tests in this binary share the
// process's registry.
#include <gtest/gtest.h>

#include "controller/controller_metrics.h"
#include "controller/link/in_process_link.h"
#include "injector/command_handler.h"
#include "injector/fault_engine.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;

struct Reading {
  double active, applies, reverts, expiries_observed;
};

Reading read() {
  ControllerMetrics& m = controller_metrics();
  return {m.faults_active.with({"process_pause"}).value(),
          static_cast<double>(m.fault_apply_seconds.with({"process_pause"}).snapshot().count),
          static_cast<double>(m.fault_revert_seconds.with({"process_pause"}).snapshot().count),
          m.lease_expiries_observed_total.value()};
}

TEST(ControllerLinkMetrics, CountFaultsByKindAndLeasesTheInjectorEnded) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  injector::FaultEngine engine(injector::default_backends());
  InProcessInjectorLink link({"local", {}, {}, "test"}, [&](const pb::ControllerMessage& m) {
    return injector::handle_command(engine, m);
  });
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_pid(sleeper.pid());
  Reading before = read();

  ASSERT_TRUE(link.apply("c1", "r1", spec, std::chrono::seconds(30), Duration::zero()).ok());
  EXPECT_EQ(read().active - before.active, 1);
  EXPECT_EQ(read().applies - before.applies, 1);
  ASSERT_TRUE(link.revert("c1").ok());
  EXPECT_EQ(read().active, before.active);
  EXPECT_EQ(read().reverts - before.reverts, 1);

  // A lease that ran out before the renewal: the injector ended it, and the controller saw so.
  ASSERT_TRUE(link.apply("c2", "r1", spec, std::chrono::milliseconds(200), Duration::zero()).ok());
  ASSERT_TRUE(wait_until([&] { return engine.active_fault_ids().empty(); }, 3000ms));
  EXPECT_FALSE(link.renew("c2", std::chrono::seconds(1)).ok());
  EXPECT_EQ(read().expiries_observed - before.expiries_observed, 1);
  // The run still reverts it (idempotent on the injector) and stops counting it.
  ASSERT_TRUE(link.revert("c2").ok());
  EXPECT_EQ(read().active, before.active);
}

TEST(ControllerLinkMetrics, ALinkThatGoesAwayStopsCountingItsFaults) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  injector::FaultEngine engine(injector::default_backends());
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_pid(sleeper.pid());
  Reading before = read();
  {
    InProcessInjectorLink link({"local", {}, {}, "test"}, [&](const pb::ControllerMessage& m) {
      return injector::handle_command(engine, m);
    });
    ASSERT_TRUE(link.apply("c3", "r1", spec, std::chrono::seconds(30), Duration::zero()).ok());
    EXPECT_EQ(read().active - before.active, 1);
  }
  EXPECT_EQ(read().active, before.active);
}

}  // namespace
}  // namespace faultline::controller
