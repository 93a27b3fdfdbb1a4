// Issue 19 item 5: a large experiment took the controller to 591 MB and after two of them
// `faultline runs` failed for every client (a 5 MB listing) and their journals could not be
// fetched. A run's journal now has a ceiling (the controller policy's limits.events_per_run),
// listings are summaries in pages, and journals come in pages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

TEST(LargeRuns, AJournalPastItsLimitEndsTheRunAndListingsStaySmallAndPaged) {
  SecurityFixture fx;
  std::string policy = fx.dir().file("controller-policy.yaml");
  write_file(policy,
             "apiVersion: faultline/v1\nkind: ControllerPolicy\nlimits:\n  events_per_run: 30\n");
  fx.start_controller({"--policy", policy});
  ASSERT_TRUE(fx.start_injector());
  ChildProcess target({"/bin/sleep", "1000"});
  write_file(fx.dir().file("target.pid"), std::to_string(target.pid()) + "\n");
  std::string yaml =
      "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: many-probes}\n"
      "targets:\n  t: {process: {pidfile: " +
      fx.dir().file("target.pid") +
      "}}\n"
      "faults:\n  - {name: freeze, kind: process_pause, target: t, duration: 30s}\n"
      "steady_state:\n";
  for (int i = 0; i < 40; ++i)
    yaml += "  - {name: alive-" + std::to_string(i) + ", process: {target: t}}\n";
  write_file(fx.dir().file("many.yaml"), yaml);
  EXPECT_EQ(fx.cli("operator", {"run", fx.dir().file("many.yaml")}), 2) << fx.out() << fx.err();
  EXPECT_NE(fx.out().find("the run's journal reached 30 events, the limit of the controller "
                          "policy (limits.events_per_run)"),
            std::string::npos)
      << fx.out();
  EXPECT_NE(fx.out().find("not journaled: the journal was full"), std::string::npos) << fx.out();

  // Two more short runs, then the listing in pages of one.
  write_file(fx.dir().file("small.yaml"),
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: small}\n"
             "targets:\n  t: {process: {pidfile: " +
                 fx.dir().file("target.pid") +
                 "}}\n"
                 "faults:\n  - {name: freeze, kind: process_pause, target: t, duration: 100ms}\n");
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(fx.cli("operator", {"run", fx.dir().file("small.yaml")}), 0) << fx.err();
  std::vector<std::string> listed;
  std::string token;
  for (int page = 0; page < 4; ++page) {
    std::vector<std::string> args{"runs", "--limit", "1"};
    if (!token.empty()) args.insert(args.end(), {"--page-token", token});
    ASSERT_EQ(fx.cli("viewer", args), 0) << fx.err();
    auto line = fx.out().find('\n');
    ASSERT_NE(line, std::string::npos);
    listed.push_back(fx.out().substr(line + 1, 14));
    auto at = fx.err().find("--page-token ");
    if (at == std::string::npos) break;
    token = fx.err().substr(at + 13, fx.err().find('\n', at) - at - 13);
  }
  ASSERT_EQ(listed.size(), 3u) << fx.err();
  EXPECT_NE(listed[0], listed[1]);
  EXPECT_NE(listed[1], listed[2]);
  EXPECT_EQ(listed[2].rfind("r-", 0), 0u);
  std::string big = listed[2].substr(0, listed[2].find(' '));

  // The listing is summaries; the run itself still has everything, its journal in pages.
  auto stub = fx.stub();
  v1::ListRunsRequest lreq;
  v1::ListRunsResponse lresp;
  grpc::ClientContext lctx;
  SecurityFixture::authorize(lctx, kViewerToken);
  ASSERT_TRUE(stub->ListRuns(&lctx, lreq, &lresp).ok());
  for (const auto& r : lresp.runs()) {
    EXPECT_EQ(r.events_size(), 0);
    EXPECT_EQ(r.summary().steady_state_probes_size(), 0);
    EXPECT_EQ(r.summary().series_size(), 0);
  }
  v1::GetRunRequest greq;
  greq.set_run_id(big);
  greq.set_max_events(10);
  v1::Run page;
  grpc::ClientContext gctx;
  SecurityFixture::authorize(gctx, kViewerToken);
  ASSERT_TRUE(stub->GetRun(&gctx, greq, &page).ok());
  EXPECT_EQ(page.events_size(), 10);
  EXPECT_TRUE(page.more_events());
  EXPECT_EQ(page.summary().steady_state_probes_size(), 40);
  // `journal` puts the pages together: every event, ending with the summary.
  ASSERT_EQ(fx.cli("viewer", {"journal", big}), 0) << fx.err();
  auto json = nlohmann::json::parse(fx.out());
  ASSERT_TRUE(json.contains("events")) << fx.out().substr(0, 400);
  EXPECT_GT(json["events"].size(), 30u);
  EXPECT_LT(json["events"].size(), 60u);
  EXPECT_EQ(json["events"].back()["type"], "EVENT_TYPE_RUN_FINISHED");
}

}  // namespace
}  // namespace faultline::testing
