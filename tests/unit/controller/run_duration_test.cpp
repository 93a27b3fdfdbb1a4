// Issue 19 item 10: durations came from the wall clock, so a clock step during a run showed
// as "Duration 3604.00 s" or "-3595s". Every report now reads the monotonic duration.
#include <gtest/gtest.h>

#include "controller/report/junit_report.h"
#include "controller/report/terminal_report.h"
#include "controller/run_state.h"

namespace faultline::controller {
namespace {

// A run of 4 s during which the wall clock was stepped back by an hour.
v1::RunSummary stepped_back() {
  v1::RunSummary s;
  s.set_verdict(v1::RUN_STATE_PASSED);
  s.set_started_unix_ms(1'800'000'000'000);
  s.set_ended_unix_ms(1'800'000'000'000 + 4'000 - 3'600'000);
  s.set_duration_ms(4'000);
  s.set_experiment_name("stepped");
  return s;
}

TEST(RunDuration, IsTheMonotonicDurationWhateverTheWallClockDid) {
  EXPECT_EQ(run_duration_ms(stepped_back()), 4'000);
}

TEST(RunDuration, RunsStoredBeforeItWasKeptFallBackToTheWallClockButNeverGoNegative) {
  v1::RunSummary s = stepped_back();
  s.clear_duration_ms();
  EXPECT_EQ(run_duration_ms(s), 0);
  s.set_ended_unix_ms(s.started_unix_ms() + 1'500);
  EXPECT_EQ(run_duration_ms(s), 1'500);
}

TEST(RunDuration, TheTerminalSummaryAndJUnitShowIt) {
  pb::RunEvent finished;
  finished.set_type(pb::EVENT_TYPE_RUN_FINISHED);
  *finished.mutable_summary() = stepped_back();
  std::string text = format_summary({finished});
  EXPECT_NE(text.find("4.00 s"), std::string::npos) << text;
  EXPECT_EQ(text.find("-3596"), std::string::npos) << text;

  v1::Run run;
  run.set_run_id("r-1");
  run.set_experiment_name("stepped");
  run.set_state(v1::RUN_STATE_PASSED);
  *run.mutable_summary() = stepped_back();
  *run.add_events() = finished;
  std::string xml = junit_xml({run});
  EXPECT_NE(xml.find("time=\"4"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("time=\"-"), std::string::npos) << xml;
}

}  // namespace
}  // namespace faultline::controller
