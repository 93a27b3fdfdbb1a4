// The injector's metrics as the fault engine moves real faults on a real process: applied,
// reverted, refused, and ended by an expired lease. Read as deltas: other tests in this binary
// share the process's registry.
#include "injector/injector_metrics.h"

#include <gtest/gtest.h>

#include "injector/fault_engine.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

pb::FaultSpec pause_pid(pid_t pid) {
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_pid(pid);
  return spec;
}

struct Reading {
  double active, applies, reverts, apply_errors, expiries;
};

Reading read() {
  InjectorMetrics& m = injector_metrics();
  return {m.faults_active.with({"process_pause"}).value(),
          static_cast<double>(m.fault_apply_seconds.with({"process_pause"}).snapshot().count),
          static_cast<double>(m.fault_revert_seconds.with({"process_pause"}).snapshot().count),
          m.fault_errors_total.with({"apply", "process_pause"}).value(),
          m.lease_expiries_total.with({kExpiryLease}).value()};
}

TEST(InjectorMetrics, FollowAppliesRevertsRefusalsAndExpiredLeases) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  Reading before = read();

  ASSERT_TRUE(engine.apply("m1", pause_pid(sleeper.pid()), std::chrono::seconds(30)).ok());
  Reading held = read();
  EXPECT_EQ(held.active - before.active, 1);
  EXPECT_EQ(held.applies - before.applies, 1);
  ASSERT_TRUE(engine.revert("m1").ok());
  ASSERT_TRUE(engine.revert("m1").ok());  // idempotent, and not counted twice
  Reading reverted = read();
  EXPECT_EQ(reverted.active, before.active);
  EXPECT_EQ(reverted.reverts - before.reverts, 1);

  // The same id twice is refused: one apply error, nothing more held.
  ASSERT_TRUE(engine.apply("m2", pause_pid(sleeper.pid()), std::chrono::seconds(30)).ok());
  ASSERT_FALSE(engine.apply("m2", pause_pid(sleeper.pid()), std::chrono::seconds(30)).ok());
  EXPECT_EQ(read().apply_errors - before.apply_errors, 1);
  EXPECT_EQ(read().active - before.active, 1);
  ASSERT_TRUE(engine.revert("m2").ok());

  // A lease nobody renews: the engine ends the fault itself and counts why.
  ASSERT_TRUE(engine.apply("m3", pause_pid(sleeper.pid()), std::chrono::milliseconds(200)).ok());
  EXPECT_TRUE(wait_until([&] { return read().expiries - before.expiries == 1; }, 3000ms));
  EXPECT_EQ(read().active, before.active);
  EXPECT_NE(process_state(sleeper.pid()), 'T');
}

}  // namespace
}  // namespace faultline::injector
