// Issue 19 item 5: one large run made `runs` fail for every client (a 5 MB listing) and its
// journal could not be fetched. Listings are summaries in pages, journals come in pages, and
// a run's journal has a ceiling.
#include <gtest/gtest.h>

#include "controller/run/run_journal.h"
#include "controller/store/sqlite_store.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

pb::RunEvent event(pb::EventType type) {
  pb::RunEvent ev;
  ev.set_type(type);
  return ev;
}

TEST(JournalCapacity, PastTheLimitProbeResultsAreDroppedAndFaultsKeptAndTheRunIsToldOnce) {
  RunJournal journal("r-1");
  int told = 0;
  journal.set_capacity(5, [&](size_t max) {
    ++told;
    EXPECT_EQ(max, 5u);
  });
  for (int i = 0; i < 5; ++i) journal.append(event(pb::EVENT_TYPE_PROBE_RESULT));
  EXPECT_EQ(told, 0);
  for (int i = 0; i < 100; ++i) journal.append(event(pb::EVENT_TYPE_PROBE_RESULT));
  journal.append_all({event(pb::EVENT_TYPE_FAULT_REVERTED), event(pb::EVENT_TYPE_NOTE)});
  journal.append(event(pb::EVENT_TYPE_RUN_FINISHED));
  EXPECT_EQ(told, 1);
  EXPECT_EQ(journal.dropped(), 101u);
  auto events = journal.events();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[5].type(), pb::EVENT_TYPE_FAULT_REVERTED);
  EXPECT_EQ(events[6].type(), pb::EVENT_TYPE_RUN_FINISHED);
  EXPECT_EQ(events[6].seq(), 7u);  // no gaps in seq for what was dropped
  EXPECT_TRUE(journal.finished());
}

TEST(JournalPages, ALiveJournalIsReadAPageAtATime) {
  RunJournal journal("r-1");
  for (int i = 0; i < 25; ++i) journal.append(event(pb::EVENT_TYPE_NOTE));
  bool more = false;
  auto page = journal.page(0, 10, &more);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_TRUE(more);
  page = journal.page(page.back().seq(), 10, &more);
  EXPECT_EQ(page.front().seq(), 11u);
  page = journal.page(20, 10, &more);
  EXPECT_EQ(page.size(), 5u);
  EXPECT_FALSE(more);
  EXPECT_TRUE(journal.page(25, 10, &more).empty());
}

class StorePages : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::open(dir_.file("faultline.db"));
    ASSERT_TRUE(s.ok());
    store_ = *s;
  }
  void add(const std::string& id, int64_t started, int events) {
    v1::Run run;
    run.set_run_id(id);
    run.set_experiment_name("exp-" + id);
    run.set_state(v1::RUN_STATE_PASSED);
    run.mutable_summary()->set_started_unix_ms(started);
    ASSERT_TRUE(store_->begin(run, "test").ok());
    for (int i = 1; i <= events; ++i) {
      v1::RunEvent ev;
      ev.set_run_id(id);
      ev.set_seq(static_cast<uint64_t>(i));
      ev.set_type(v1::EVENT_TYPE_NOTE);
      *run.add_events() = ev;
    }
    run.mutable_summary()->set_ended_unix_ms(started + 10);
    run.mutable_summary()->set_reason("done");
    ASSERT_TRUE(store_->save(run).ok());
  }
  testing::TempDir dir_;
  std::shared_ptr<SqliteStore> store_;
};

TEST_F(StorePages, ListingsContinueFromTheirCursorWithoutRepeatsOrGaps) {
  // Five runs, two of them started in the same millisecond.
  add("r-a", 1000, 1);
  add("r-b", 2000, 1);
  add("r-c", 2000, 1);
  add("r-d", 3000, 1);
  add("r-e", 4000, 1);
  std::vector<std::string> seen;
  const RunCursor* after = nullptr;
  RunCursor cursor;
  for (int page = 0; page < 5; ++page) {
    auto runs = store_->list(2, after);
    for (const auto& r : runs) seen.push_back(r.run_id());
    if (runs.size() < 2) break;
    cursor = {runs.back().summary().started_unix_ms(), runs.back().run_id()};
    auto parsed = RunCursor::parse(cursor.token());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->run_id, cursor.run_id);
    cursor = *parsed;
    after = &cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"r-e", "r-d", "r-c", "r-b", "r-a"}));
  EXPECT_FALSE(RunCursor::parse("x.r-1"));
  EXPECT_FALSE(RunCursor::parse("123"));
  EXPECT_FALSE(RunCursor::parse("99999999999999999999.r"));
}

TEST_F(StorePages, AStoredJournalIsReadAPageAtATimeWithTheSummaryOnTheFirst) {
  add("r-big", 1000, 2500);
  auto first = store_->load_page("r-big", 0, 1000);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->events_size(), 1000);
  EXPECT_TRUE(first->more_events());
  EXPECT_EQ(first->summary().reason(), "done");
  auto last = store_->load_page("r-big", 2000, 1000);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->events_size(), 500);
  EXPECT_EQ(last->events(0).seq(), 2001u);
  EXPECT_FALSE(last->more_events());
  EXPECT_FALSE(last->has_summary());
  EXPECT_FALSE(store_->load_page("r-none", 0, 10));
}

}  // namespace
}  // namespace faultline::controller
