// The recovery phase with real probes (commands) and a process_restarted check asked through
// the in-process link of a fake injector; and the rollbacks run when a run ends.
#include "controller/run/recovery_phase.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "support/child_process.h"
#include "unit/controller/fake_injector.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;
using faultline::testing::write_file;

experiments::ProbeSpec check(std::string name, experiments::ProbeKind kind,
                             Duration initial_delay = Duration::zero()) {
  experiments::ProbeSpec p;
  p.name = std::move(name);
  p.kind = std::move(kind);
  p.timing.timeout = 1s;
  p.timing.initial_delay = initial_delay;
  return p;
}

experiments::CommandProbeSpec command(std::vector<std::string> argv) {
  return experiments::CommandProbeSpec{std::move(argv), 0, ""};
}

experiments::RecoverySpec recovery(Duration deadline, std::vector<experiments::ProbeSpec> checks) {
  experiments::RecoverySpec r;
  r.deadline = deadline;
  r.interval = 50ms;
  r.checks = std::move(checks);
  return r;
}

std::set<std::pair<int32_t, uint64_t>> nothing_touched(const std::string&) {
  return {};
}

std::vector<pb::RunEvent> of_type(const RunContext& run, pb::EventType type) {
  std::vector<pb::RunEvent> out;
  for (const auto& ev : run.journal().events())
    if (ev.type() == type) out.push_back(ev);
  return out;
}

std::string flag_path(const std::string& what) {
  return "/tmp/faultline-recovery-" + what + "-" + std::to_string(::getpid());
}

TEST(RecoveryPhase, ReturnsTheTimeToRecoverWhenTheChecksStartPassing) {
  RunContext run("r1");
  std::string flag = flag_path("up");
  std::filesystem::remove(flag);
  auto spec = recovery(5s, {check("service-back", command({"/bin/test", "-e", flag}))});
  MonoTime window_end = MonoClock::now();
  std::thread comes_back([&] {
    std::this_thread::sleep_for(300ms);
    write_file(flag, "");
  });
  auto ttr = await_recovery(run, spec, {}, nothing_touched, window_end);
  comes_back.join();
  std::filesystem::remove(flag);
  ASSERT_TRUE(ttr.ok()) << ttr.error().message;
  EXPECT_GE(*ttr, 300);
  EXPECT_LT(*ttr, 2000);
  // The first result and the change, each check with its own time to recover.
  auto results = of_type(run, pb::EVENT_TYPE_PROBE_RESULT);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].probe().ok());
  EXPECT_EQ(results[0].probe().recovered_after_ms(), -1);
  EXPECT_TRUE(results[1].probe().ok());
  EXPECT_GE(results[1].probe().recovered_after_ms(), 300);
  EXPECT_LE(results[1].probe().recovered_after_ms(), *ttr);
  EXPECT_EQ(results[1].probe().phase(), pb::PROBE_PHASE_RECOVERY);
}

TEST(RecoveryPhase, EveryCheckMustPassAndEachWaitsForItsInitialDelay) {
  RunContext run("r1");
  auto spec = recovery(5s, {check("at-once", command({"/bin/true"})),
                            check("later", command({"/bin/true"}), 400ms)});
  auto ttr = await_recovery(run, spec, {}, nothing_touched, MonoClock::now());
  ASSERT_TRUE(ttr.ok()) << ttr.error().message;
  EXPECT_GE(*ttr, 400);
}

TEST(RecoveryPhase, ADeadlinePassedIsTheFailure) {
  RunContext run("r1");
  auto spec = recovery(300ms, {check("never", command({"/bin/false"}))});
  MonoTime start = MonoClock::now();
  auto ttr = await_recovery(run, spec, {}, nothing_touched, start);
  ASSERT_FALSE(ttr.ok());
  EXPECT_EQ(ttr.error().message, "did not recover within 300ms");
  EXPECT_GE(MonoClock::now() - start, 300ms);
  EXPECT_LT(MonoClock::now() - start, 2s);
  EXPECT_EQ(of_type(run, pb::EVENT_TYPE_PROBE_RESULT).size(), 1u);  // no change, one line
  EXPECT_GE(run.series().at(0).ok_size(), 3);                       // but every poll counted
}

TEST(RecoveryPhase, AnAbortEndsTheWait) {
  RunContext run("r1");
  auto spec = recovery(30s, {check("never", command({"/bin/false"}))});
  std::thread aborter([&] {
    std::this_thread::sleep_for(200ms);
    run.abort("operator");
  });
  MonoTime start = MonoClock::now();
  auto ttr = await_recovery(run, spec, {}, nothing_touched, start);
  aborter.join();
  EXPECT_FALSE(ttr.ok());
  EXPECT_LT(MonoClock::now() - start, 2s);
}

TEST(RecoveryPhase, ProcessRestartedWaitsForAProcessTheFaultsDidNotTouch) {
  RunContext run("r1");
  testing::FakeFleet fleet(1);
  fleet.injector(1).lists(101, 7);  // still the process the fault killed
  ProbeContext probes;
  probes.nodes_of = [&](const std::string& target) {
    EXPECT_EQ(target, "worker");
    return std::vector<std::shared_ptr<InjectorLink>>{fleet.links[0]};
  };
  probes.selector_of = [](const std::string&) { return pb::ProcessSelector{}; };
  auto touched = [](const std::string& target) {
    EXPECT_EQ(target, "worker");
    return std::set<std::pair<int32_t, uint64_t>>{{101, 7}};
  };
  auto spec = recovery(5s, {check("replaced", experiments::ProcessRestartedSpec{"worker"})});
  MonoTime window_end = MonoClock::now();
  std::thread supervisor([&] {
    std::this_thread::sleep_for(300ms);
    fleet.injector(1).lists(202, 9);  // the supervisor started a new one
  });
  auto ttr = await_recovery(run, spec, probes, touched, window_end);
  supervisor.join();
  ASSERT_TRUE(ttr.ok()) << ttr.error().message;
  EXPECT_GE(*ttr, 300);
  auto results = of_type(run, pb::EVENT_TYPE_PROBE_RESULT);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].probe().observed(), "n1: only the process(es) the fault hit");
  EXPECT_EQ(results[1].probe().observed(), "n1: new pid 202 (worker)");
}

TEST(Rollbacks, RunForTheirEndingsAndNoteEachResult) {
  RunContext run("r1");
  std::string flag = flag_path("rolled-back");
  std::filesystem::remove(flag);
  auto action = [](std::string name, std::vector<std::string> argv, std::vector<std::string> on) {
    experiments::RollbackAction a;
    a.name = std::move(name);
    a.action = experiments::CommandAction{std::move(argv), 5s};
    a.on = std::move(on);
    return a;
  };
  std::vector<experiments::RollbackAction> rollbacks{
      action("mark-aborted", {"/usr/bin/touch", flag}, {"aborted"}),
      action("always", {"/bin/sh", "-c", "exit 3"}, {}),
      action("missing", {"/nonexistent/program"}, {"passed", "aborted"})};

  run_rollbacks(run, rollbacks, pb::RUN_STATE_PASSED, {});
  EXPECT_FALSE(std::filesystem::exists(flag));
  std::vector<std::string> notes;
  for (const auto& ev : of_type(run, pb::EVENT_TYPE_NOTE)) notes.push_back(ev.message());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "rollback always: exit code 3");
  EXPECT_EQ(notes[1].rfind("rollback missing: ", 0), 0u) << notes[1];

  run_rollbacks(run, rollbacks, pb::RUN_STATE_ABORTED, {});
  EXPECT_TRUE(std::filesystem::exists(flag));
  notes.clear();
  for (const auto& ev : of_type(run, pb::EVENT_TYPE_NOTE)) notes.push_back(ev.message());
  ASSERT_EQ(notes.size(), 5u);
  EXPECT_EQ(notes[2], "rollback mark-aborted: exit code 0");
  std::filesystem::remove(flag);
}

}  // namespace
}  // namespace faultline::controller
