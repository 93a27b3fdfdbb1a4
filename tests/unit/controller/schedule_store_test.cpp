// The schedules table, run retention and the scheduler's start-up, on a real SQLite file.
#include <gtest/gtest.h>

#include "common/time_util.h"
#include "controller/controller.h"
#include "controller/schedule/scheduler.h"
#include "controller/store/retention.h"
#include "controller/store/sqlite_store.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

std::shared_ptr<SqliteStore> open_store(const testing::TempDir& dir) {
  auto store = SqliteStore::open(dir.file("faultline.db"));
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return *store;
}

// A run stored the way the controller stores one: begun, one event, and (if finished) saved.
void store_run(SqliteStore& store, const std::string& id, int64_t started_ms, int64_t ended_ms,
               bool finished) {
  v1::Run run;
  run.set_run_id(id);
  run.set_experiment_name("exp");
  run.set_state(v1::RUN_STATE_PENDING);
  run.mutable_summary()->set_started_unix_ms(started_ms);
  ASSERT_TRUE(store.begin(run, "test").ok());
  v1::RunEvent ev;
  ev.set_run_id(id);
  ev.set_seq(1);
  ev.set_unix_ms(started_ms);
  ev.set_type(v1::EVENT_TYPE_STATE_CHANGED);
  ASSERT_TRUE(store.append_event(ev).ok());
  if (!finished) return;
  run.set_state(v1::RUN_STATE_PASSED);
  run.mutable_summary()->set_ended_unix_ms(ended_ms);
  *run.add_events() = ev;
  ASSERT_TRUE(store.save(run).ok());
}

const char* kExperiment = R"(apiVersion: faultline/v1
kind: Experiment
metadata:
  name: scheduled-pause
targets:
  demo:
    process:
      pidfile: /nonexistent/demo.pid
faults:
  - name: pause-demo
    kind: process_pause
    target: demo
    duration: 1s
)";

TEST(Retention, KeepsTheNewestRunsAndNeverAnUnfinishedOne) {
  testing::TempDir dir;
  auto store = open_store(dir);
  const int64_t day = 86400000, now = 100 * day;
  store_run(*store, "r-old", now - 50 * day, now - 50 * day + 1000, true);
  store_run(*store, "r-going", now - 60 * day, 0, false);  // oldest of all, but not finished
  store_run(*store, "r-1", now - 3 * day, now - 3 * day + 1000, true);
  store_run(*store, "r-2", now - 2 * day, now - 2 * day + 1000, true);
  store_run(*store, "r-3", now - 1 * day, now - 1 * day + 1000, true);

  RetentionPolicy keep_two;
  keep_two.keep_runs = 2;
  auto pruned = store->prune(keep_two, now);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(*pruned, 2u);
  EXPECT_FALSE(store->load("r-old").has_value());
  EXPECT_FALSE(store->load("r-1").has_value());
  EXPECT_TRUE(store->load("r-2").has_value());
  EXPECT_TRUE(store->load("r-3").has_value());
  auto going = store->load("r-going");
  ASSERT_TRUE(going.has_value());
  EXPECT_EQ(going->events_size(), 1);
  EXPECT_EQ(store->unfinished().size(), 1u);

  RetentionPolicy keep_36h;
  keep_36h.keep_for_ms = 36 * 3600000;
  pruned = store->prune(keep_36h, now);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1u);
  EXPECT_FALSE(store->load("r-2").has_value());
  EXPECT_TRUE(store->load("r-3").has_value());
  EXPECT_TRUE(store->load("r-going").has_value());
  // Events of pruned runs are gone with them: a new run under an old id starts empty.
  store_run(*store, "r-2", now, now + 1, true);
  EXPECT_EQ(store->load("r-2")->events_size(), 1);
  // No policy, nothing deleted.
  EXPECT_EQ(*store->prune({}, now), 0u);
}

TEST(Retention, AgesAreDaysOrDurations) {
  EXPECT_EQ(*parse_retention_age("30d"), 30LL * 86400000);
  EXPECT_EQ(*parse_retention_age("1d12h"), 36LL * 3600000);
  EXPECT_EQ(*parse_retention_age("12h"), 12LL * 3600000);
  EXPECT_EQ(*parse_retention_age("90m"), 90LL * 60000);
  EXPECT_FALSE(parse_retention_age("0d").ok());
  EXPECT_FALSE(parse_retention_age("").ok());
  auto bad = parse_retention_age("3x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"3x\""), std::string::npos) << bad.error().message;
}

TEST(ScheduleStore, AddUpdateListRemoveAndSurviveReopening) {
  testing::TempDir dir;
  {
    auto store = open_store(dir);
    ScheduleRecord r;
    r.name = "nightly";
    r.cron = "0 3 * * *";
    r.time_zone = "Europe/Berlin";
    r.overlap = "queue";
    r.yaml = kExperiment;
    r.source_name = "exp.yaml";
    r.vars = {{"port", "8080"}};
    r.created_by = "alice";
    r.next_fire_unix_ms = 1234;
    ASSERT_TRUE(store->add_schedule(r).ok());
    auto dup = store->add_schedule(r);
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, ErrorCode::kFailedPrecondition);
    r.paused = true;
    r.last_run_id = "r-1";
    r.last_outcome = "submitted";
    ASSERT_TRUE(store->update_schedule(r).ok());
    ScheduleRecord ghost;
    ghost.name = "ghost";
    EXPECT_EQ(store->update_schedule(ghost).error().code, ErrorCode::kNotFound);
  }
  auto store = open_store(dir);
  auto all = store->schedules();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "nightly");
  EXPECT_EQ(all[0].time_zone, "Europe/Berlin");
  EXPECT_EQ(all[0].overlap, "queue");
  EXPECT_EQ(all[0].yaml, kExperiment);
  EXPECT_EQ(all[0].vars.at("port"), "8080");
  EXPECT_TRUE(all[0].paused);
  EXPECT_EQ(all[0].last_run_id, "r-1");
  EXPECT_EQ(all[0].next_fire_unix_ms, 1234);
  ASSERT_TRUE(store->remove_schedule("nightly").ok());
  EXPECT_EQ(store->remove_schedule("nightly").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store->schedules().empty());
}

TEST(Scheduler, BadInputIsRefusedAndNothingIsStored) {
  testing::TempDir dir;
  auto store = open_store(dir);
  Controller controller;
  Scheduler scheduler(controller, store);
  ASSERT_TRUE(scheduler.start().ok());
  ScheduleSpec spec{"nightly", "0 3 * * *", "Europe/Berlin", "", kExperiment, "exp.yaml", {}};

  ScheduleSpec bad_cron = spec;
  bad_cron.cron = "0 25 * * *";
  auto r = scheduler.add(bad_cron, "alice");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("hour field \"25\""), std::string::npos) << r.error().message;

  ScheduleSpec bad_zone = spec;
  bad_zone.time_zone = "Europe/Atlantis";
  r = scheduler.add(bad_zone, "alice");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Europe/Atlantis"), std::string::npos);

  ScheduleSpec bad_yaml = spec;
  bad_yaml.yaml = std::string(kExperiment) + "  - name: broken\n    kind: process_nap\n";
  r = scheduler.add(bad_yaml, "alice");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exp.yaml:"), std::string::npos) << r.error().message;

  ScheduleSpec bad_overlap = spec;
  bad_overlap.overlap = "stack";
  EXPECT_FALSE(scheduler.add(bad_overlap, "alice").ok());
  ScheduleSpec never = spec;
  never.cron = "0 0 30 2 *";
  r = scheduler.add(never, "alice");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("names no instant"), std::string::npos);
  ScheduleSpec bad_name = spec;
  bad_name.name = "no spaces";
  EXPECT_FALSE(scheduler.add(bad_name, "alice").ok());

  EXPECT_TRUE(store->schedules().empty());
  EXPECT_TRUE(scheduler.list().empty());

  auto ok = scheduler.add(spec, "alice");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->record.experiment_name, "scheduled-pause");
  EXPECT_EQ(ok->record.overlap, "skip");
  EXPECT_GT(ok->record.next_fire_unix_ms, unix_millis_now());
  EXPECT_NE(ok->next_fire_local.find(":00:00 CE"), std::string::npos) << ok->next_fire_local;
  auto dup = scheduler.add(spec, "bob");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store->schedules().size(), 1u);
}

TEST(Scheduler, FiresMissedWhileDownAreReportedNotRun) {
  testing::TempDir dir;
  auto store = open_store(dir);
  int64_t now = unix_millis_now();
  // Stored by an earlier controller that stopped two minutes ago; due every 10 s since.
  ScheduleRecord r;
  r.name = "every-10s";
  r.cron = "*/10 * * * * *";
  r.time_zone = "UTC";
  r.overlap = "skip";
  r.yaml = kExperiment;
  r.source_name = "exp.yaml";
  r.next_fire_unix_ms = (now / 10000 - 12) * 10000;
  ASSERT_TRUE(store->add_schedule(r).ok());
  ScheduleRecord paused = r;
  paused.name = "paused";
  paused.paused = true;
  paused.next_fire_unix_ms = 0;
  ASSERT_TRUE(store->add_schedule(paused).ok());

  Controller controller;
  Scheduler scheduler(controller, store);
  auto loaded = scheduler.start();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, 2u);
  scheduler.stop();  // nothing may fire during the checks below
  auto all = store->schedules();
  ASSERT_EQ(all.size(), 2u);
  const ScheduleRecord& s = all[1].name == "every-10s" ? all[1] : all[0];
  EXPECT_GE(s.missed_fires, 12);
  EXPECT_LE(s.missed_fires, 13);
  EXPECT_EQ(s.missed_first_unix_ms, r.next_fire_unix_ms);
  EXPECT_LE(s.missed_last_unix_ms, unix_millis_now());
  EXPECT_GT(s.next_fire_unix_ms, now - 1000);
  EXPECT_EQ(s.next_fire_unix_ms % 10000, 0);
  EXPECT_EQ(s.last_fire_unix_ms, 0) << "a missed fire is not run late";
  const ScheduleRecord& p = all[1].name == "paused" ? all[1] : all[0];
  EXPECT_EQ(p.missed_fires, 0);
  EXPECT_EQ(p.next_fire_unix_ms, 0);
}

TEST(Scheduler, PauseResumeAndRemove) {
  testing::TempDir dir;
  auto store = open_store(dir);
  Controller controller;
  Scheduler scheduler(controller, store);
  ASSERT_TRUE(scheduler.start().ok());
  ScheduleSpec spec{"hourly", "@hourly", "", "", kExperiment, "exp.yaml", {}};
  ASSERT_TRUE(scheduler.add(spec, "alice").ok());
  auto p = scheduler.pause("hourly");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->record.paused);
  EXPECT_EQ(p->record.next_fire_unix_ms, 0);
  EXPECT_TRUE(store->schedules()[0].paused);
  auto r = scheduler.resume("hourly");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->record.paused);
  EXPECT_EQ(r->record.next_fire_unix_ms % 3600000, 0);
  EXPECT_EQ(scheduler.pause("nope").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(scheduler.remove("hourly").ok());
  EXPECT_EQ(scheduler.remove("hourly").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store->schedules().empty());
}

}  // namespace
}  // namespace faultline::controller
