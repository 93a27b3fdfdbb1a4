// The halt switch on a real SQLite store: kept across a new switch (a controller restart),
// lifted only when pulled, the reason checked, and a halted controller refusing submissions.
#include "controller/halt_switch.h"

#include <gtest/gtest.h>

#include "controller/controller.h"
#include "controller/store/sqlite_store.h"
#include "experiments/loader.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

TEST(HaltSwitch, IsKeptInTheStoreAndLiftedOnlyWhenPulled) {
  testing::TempDir dir;
  auto store = SqliteStore::open(dir.file("faultline.db"));
  ASSERT_TRUE(store.ok()) << store.error().message;
  {
    HaltSwitch s;
    s.attach(store->get());
    EXPECT_FALSE(s.halted()) << "nothing stored: not halted";
    EXPECT_EQ(s.lift("ada", 5).error().code, ErrorCode::kFailedPrecondition);
    ASSERT_TRUE(s.pull("otto", "db failover drill", 1000).ok());
    EXPECT_TRUE(s.halted());
  }
  HaltSwitch again;  // a restarted controller
  again.attach(store->get());
  ASSERT_TRUE(again.halted());
  EXPECT_EQ(again.state().halted_by, "otto");
  EXPECT_EQ(again.state().reason, "db failover drill");
  EXPECT_EQ(again.state().halted_unix_ms, 1000);
  EXPECT_NE(again.refusal().find("the fleet is halted by otto at "), std::string::npos)
      << again.refusal();
  auto lifted = again.lift("ada", 2000);
  ASSERT_TRUE(lifted.ok());
  EXPECT_FALSE(lifted->halted);
  EXPECT_EQ(lifted->lifted_by, "ada");
  HaltSwitch third;
  third.attach(store->get());
  EXPECT_FALSE(third.halted());
  EXPECT_EQ(third.state().lifted_by, "ada") << "who lifted it is kept for the record";
}

TEST(HaltSwitch, TheReasonIsOnePlainLine) {
  EXPECT_FALSE(check_halt_reason("").ok());
  EXPECT_FALSE(check_halt_reason(std::string(501, 'x')).ok());
  EXPECT_FALSE(check_halt_reason("two\nlines").ok());
  EXPECT_FALSE(check_halt_reason("bell\x07").ok());
  EXPECT_FALSE(check_halt_reason("esc\x1b[31m").ok());
  EXPECT_TRUE(check_halt_reason("incident 4711: payments degraded").ok());
}

TEST(HaltSwitch, AHaltedControllerRefusesSubmissionsAndSaysWhy) {
  Controller ctl;
  auto out = ctl.halt("otto", "drill");
  EXPECT_TRUE(out.state.halted);
  EXPECT_EQ(out.runs_aborted, 0u);
  auto loaded = experiments::parse_experiment(
      "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: x}\ntargets:\n"
      "  t: {process: {pidfile: /run/none.pid}}\nfaults:\n  - {name: p, kind: process_pause, "
      "target: t, "
      "duration: 1s}\n",
      "x.yaml", {});
  ASSERT_TRUE(loaded.ok()) << experiments::format_diagnostics(loaded.diagnostics);
  auto run = ctl.submit(*loaded.experiment);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error().message.find("the fleet is halted by otto"), std::string::npos)
      << run.error().message;
  ASSERT_TRUE(ctl.unhalt("ada").ok());
  EXPECT_FALSE(ctl.halt_state().halted);
}

}  // namespace
}  // namespace faultline::controller
