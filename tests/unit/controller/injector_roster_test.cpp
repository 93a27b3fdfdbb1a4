// Which nodes `faultline injectors` shows, and in what state: live links from the registry,
// gone ones from a real SQLite store.
#include <gtest/gtest.h>

#include "controller/link/grpc_injector_link.h"
#include "controller/link/in_process_link.h"
#include "controller/link/injector_roster.h"
#include "controller/store/sqlite_store.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

std::shared_ptr<InProcessInjectorLink> live(const std::string& node,
                                            std::map<std::string, std::string> labels) {
  return std::make_shared<InProcessInjectorLink>(
      InjectorInfo{node, std::move(labels), {"process_kill"}, "test"},
      [](const pb::ControllerMessage&) { return pb::FaultAck{}; });
}

class Roster : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::open(dir_.file("faultline.db"));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = *opened;
  }
  void record(const std::string& node, const std::string& labels, const std::string& state,
              int64_t unix_ms) {
    ASSERT_TRUE(
        store_
            ->record_injector({node, labels, labels.empty() ? "" : "process_kill,latency",
                               labels.empty() ? "" : "0.9", "ipv4:10.0.0.1:5000", state, unix_ms})
            .ok());
  }
  std::map<std::string, v1::InjectorInfo> rows(bool include_offline, int64_t now_ms) {
    std::map<std::string, v1::InjectorInfo> out;
    for (auto& row : injector_roster(registry_, store_.get(), include_offline, now_ms))
      out.emplace(row.node_name(), row);
    return out;
  }

  testing::TempDir dir_;
  std::shared_ptr<SqliteStore> store_;
  InjectorRegistry registry_;
};

TEST_F(Roster, WithoutAllOnlyLiveLinksAreListedAsConnected) {
  registry_.add(live("node-a", {{"role", "web"}}));
  record("node-a", "role=web", "registered", 1000);
  record("node-b", "role=db", "registered", 1000);
  record("node-b", "", "disconnected", 5000);
  auto r = rows(false, 65000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r["node-a"].state(), "connected");
  EXPECT_EQ(r["node-a"].peer(), "ipv4:10.0.0.1:5000");
}

TEST_F(Roster, WithAllGoneNodesKeepTheirLastLabelsAndSayWhenAndWhy) {
  registry_.add(live("node-a", {{"role", "web"}}));
  record("node-b", "role=db,zone=zone-a", "registered", 1000);
  record("node-b", "", "disconnected", 5000);  // a disconnect carries no labels
  record("node-c", "",
         "refused: node name \"node-c\" is not the one in this injector's "
         "certificate (node-b)",
         7000);
  auto r = rows(true, 65000);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r["node-b"].state(), "disconnected");
  EXPECT_EQ(r["node-b"].last_seen_ms_ago(), 60000);
  EXPECT_EQ(r["node-b"].labels().at("zone"), "zone-a");
  EXPECT_EQ(r["node-b"].labels().at("role"), "db");
  ASSERT_EQ(r["node-b"].capabilities_size(), 2);
  EXPECT_EQ(r["node-b"].capabilities(1), "latency");
  EXPECT_EQ(r["node-c"].state().rfind("refused: ", 0), 0u) << r["node-c"].state();
  EXPECT_EQ(r["node-a"].state(), "connected");
}

TEST_F(Roster, TheLiveLinkWinsOverAStaleRecordAndASilentOneIsSaidSo) {
  // node-a's old stream ended after its new one registered: the store says disconnected.
  registry_.add(live("node-a", {}));
  record("node-a", "", "disconnected", 9000);
  // node-d's stream is open but nothing has been heard for longer than the silence limit.
  auto silent = std::make_shared<GrpcInjectorLink>(InjectorInfo{"node-d", {}, {}, "test"}, nullptr,
                                                   std::chrono::seconds(1));
  silent->set_silence_limit(Duration::zero());
  registry_.add(silent);
  // A controller that died with node-e's stream open left "registered" behind.
  record("node-e", "role=web", "registered", 1000);
  auto r = rows(true, 10000);
  EXPECT_EQ(r["node-a"].state(), "connected");
  EXPECT_EQ(r["node-d"].state(), "silent");
  EXPECT_EQ(r["node-e"].state(), "disconnected");
}

TEST(Labels, JoinAndSplitAreInverse) {
  std::map<std::string, std::string> labels{{"zone", "zone-b"}, {"role", "web"}, {"k", "a=b"}};
  EXPECT_EQ(join_labels(labels), "k=a=b,role=web,zone=zone-b");
  EXPECT_EQ(split_labels(join_labels(labels)), labels);
  EXPECT_TRUE(split_labels("").empty());
}

}  // namespace
}  // namespace faultline::controller
