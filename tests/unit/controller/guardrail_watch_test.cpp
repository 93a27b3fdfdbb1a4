// The guardrail watch with real probes (a TCP connect to a closed port, a command): it aborts
// the run on a breach only once the failure has held for the guardrail's `for`.
#include "controller/run/guardrail_watch.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;
using faultline::testing::free_port;
using faultline::testing::wait_until;

experiments::Guardrail guardrail(std::string name, experiments::ProbeKind probe, Duration hold_for,
                                 Duration interval = 50ms) {
  experiments::Guardrail g;
  g.name = std::move(name);
  g.probe = std::move(probe);
  g.timing.timeout = 1s;
  g.hold_for = hold_for;
  g.interval = interval;
  return g;
}

experiments::CommandProbeSpec command(std::vector<std::string> argv) {
  return experiments::CommandProbeSpec{std::move(argv), 0, ""};
}

std::vector<pb::RunEvent> of_type(const RunContext& run, pb::EventType type) {
  std::vector<pb::RunEvent> out;
  for (const auto& ev : run.journal().events())
    if (ev.type() == type) out.push_back(ev);
  return out;
}

TEST(GuardrailWatch, ABreachAbortsTheRunOnceItHeldForItsFor) {
  RunContext run("r1");
  // Nothing listens there: every connect is refused.
  std::string closed = "127.0.0.1:" + std::to_string(free_port());
  std::vector<experiments::Guardrail> rails{
      guardrail("backend-up", experiments::TcpProbeSpec{closed}, 400ms)};
  GuardrailWatch watch(run, rails, {});
  MonoTime start = MonoClock::now();
  watch.start();
  ASSERT_TRUE(wait_until([&] { return run.aborted(); }, 5000ms));
  EXPECT_GE(MonoClock::now() - start, 400ms);
  watch.stop();

  auto breaches = of_type(run, pb::EVENT_TYPE_GUARDRAIL_BREACHED);
  ASSERT_EQ(breaches.size(), 1u);
  const auto& b = breaches[0];
  EXPECT_EQ(b.guardrail().name(), "backend-up");
  EXPECT_EQ(b.guardrail().observed(), "connect: Connection refused");
  EXPECT_GE(b.guardrail().held_ms(), 400);
  EXPECT_EQ(
      b.message().rfind("guardrail \"backend-up\" breached: connect: Connection refused for ", 0),
      0u)
      << b.message();
  EXPECT_EQ(run.abort_reason(), b.message());
  // Its changes are journaled, not every poll: it failed from the first and never passed.
  auto results = of_type(run, pb::EVENT_TYPE_PROBE_RESULT);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].probe().phase(), pb::PROBE_PHASE_GUARDRAIL);
  EXPECT_FALSE(results[0].probe().ok());
  // Every poll is a point of its series.
  auto series = run.series();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_GE(series[0].ok_size(), 3);
}

TEST(GuardrailWatch, WithoutAForTheFirstFailureAborts) {
  RunContext run("r1");
  std::vector<experiments::Guardrail> rails{
      guardrail("never", command({"/bin/false"}), Duration::zero())};
  GuardrailWatch watch(run, rails, {});
  watch.start();
  ASSERT_TRUE(wait_until([&] { return run.aborted(); }, 5000ms));
  watch.stop();
  EXPECT_EQ(run.abort_reason(), "guardrail \"never\" breached: exit code 1 (expected 0)");
}

TEST(GuardrailWatch, APassingGuardrailNeverAbortsAndStopEndsTheWatch) {
  RunContext run("r1");
  std::vector<experiments::Guardrail> rails{
      guardrail("fine", command({"/bin/true"}), Duration::zero())};
  GuardrailWatch watch(run, rails, {});
  watch.start();
  std::this_thread::sleep_for(500ms);
  MonoTime stopping = MonoClock::now();
  watch.stop();
  EXPECT_LT(MonoClock::now() - stopping, 500ms);
  EXPECT_FALSE(run.aborted());
  EXPECT_TRUE(of_type(run, pb::EVENT_TYPE_GUARDRAIL_BREACHED).empty());
  auto results = of_type(run, pb::EVENT_TYPE_PROBE_RESULT);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].probe().ok());
}

TEST(GuardrailWatch, AFailureShorterThanItsForDoesNotAbort) {
  RunContext run("r1");
  std::string flag = "/tmp/faultline-guardrail-" + std::to_string(::getpid());
  std::filesystem::remove(flag);
  // Fails while the flag file exists.
  std::vector<experiments::Guardrail> rails{
      guardrail("no-flag", command({"/bin/sh", "-c", "test ! -e " + flag}), 800ms)};
  GuardrailWatch watch(run, rails, {});
  watch.start();
  std::this_thread::sleep_for(200ms);
  faultline::testing::write_file(flag, "");
  std::this_thread::sleep_for(300ms);
  std::filesystem::remove(flag);
  // Well past when a failure that had held on would have tripped it.
  std::this_thread::sleep_for(900ms);
  EXPECT_FALSE(run.aborted());
  std::vector<bool> changes;
  for (const auto& ev : of_type(run, pb::EVENT_TYPE_PROBE_RESULT))
    changes.push_back(ev.probe().ok());
  EXPECT_EQ(changes, (std::vector<bool>{true, false, true}));

  // The same failure held on: its `for` counts from when it began again.
  MonoTime failing = MonoClock::now();
  faultline::testing::write_file(flag, "");
  ASSERT_TRUE(wait_until([&] { return run.aborted(); }, 5000ms));
  EXPECT_GE(MonoClock::now() - failing, 800ms);
  watch.stop();
  std::filesystem::remove(flag);
  EXPECT_EQ(of_type(run, pb::EVENT_TYPE_GUARDRAIL_BREACHED).size(), 1u);
}

TEST(GuardrailWatch, AnAbortFromElsewhereEndsTheWatch) {
  RunContext run("r1");
  std::vector<experiments::Guardrail> rails{
      guardrail("fine", command({"/bin/true"}), Duration::zero())};
  GuardrailWatch watch(run, rails, {});
  watch.start();
  std::this_thread::sleep_for(200ms);
  run.abort("operator");
  std::this_thread::sleep_for(100ms);  // a poll under way when the abort came ends
  int polls = run.series().at(0).ok_size();
  std::this_thread::sleep_for(300ms);
  // Polled every 50 ms while watching; not once since the abort, before any stop().
  EXPECT_EQ(run.series().at(0).ok_size(), polls);
  watch.stop();
  EXPECT_EQ(run.abort_reason(), "operator");
}

}  // namespace
}  // namespace faultline::controller
