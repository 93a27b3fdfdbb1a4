// The fleet on one machine: scripts/lab.sh builds five namespaced hosts, each with its own
// injector (mutual TLS) and demo service, and these tests run multi-node experiments on them
// through the real controller and CLI. Whether a fault hit a node is measured from outside
// (HTTP latency from the controller's namespace, process ids, netfilter rules), not taken
// from the journal's word.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "support/child_process.h"

namespace faultline::testing {
namespace {

const std::string kLab = "fl-labtest";
const std::string kNet = "10.214.0";
const std::string kBin = FAULTLINE_BIN_DIR;
const std::string kSrc = FAULTLINE_SOURCE_DIR;

std::string lab_env(const std::string& state) {
  return "FAULTLINE_LAB_NAME=" + kLab + " FAULTLINE_LAB_NET=" + kNet +
         " FAULTLINE_LAB_DIR=" + state +
         " FAULTLINE_BUILD_DIR=" + std::filesystem::path(kBin).parent_path().string() +
         " FAULTLINE_LAB_CONTACT_GRACE=2s ";
}

struct Outcome {
  int rc = -1;
  std::string out;
};

Outcome sh(const std::string& cmd) {
  std::string out = capture(cmd + " 2>&1; echo \"@rc=$?\"");
  Outcome o;
  auto at = out.rfind("@rc=");
  o.rc = at == std::string::npos ? -1 : std::atoi(out.c_str() + at + 4);
  o.out = at == std::string::npos ? out : out.substr(0, at);
  return o;
}

// Seconds for GET /health on a node, asked from the controller's namespace.
double http_seconds(int node) {
  std::string out = capture("ip netns exec " + kLab +
                            "-ctl curl -s -o /dev/null -m 5 -w '%{time_total}' http://" + kNet +
                            "." + std::to_string(node) + ":8080/health");
  return out.empty() ? -1 : std::atof(out.c_str());
}

int nfqueue_rules(int node) {
  std::string ns = kLab + "-n" + std::to_string(node);
  std::string rules = capture("(ip netns exec " + ns + " iptables-legacy-save; ip netns exec " +
                              ns + " iptables-nft-save) 2>/dev/null");
  int n = 0;
  for (size_t at = rules.find("NFQUEUE"); at != std::string::npos;
       at = rules.find("NFQUEUE", at + 1))
    ++n;
  return n;
}

class Lab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_ = new TempDir();
    // A lab left by a killed earlier run has the same names: remove it first.
    sh(lab_env(state_->path() + "/lab") + kSrc + "/scripts/lab.sh down");
    Outcome up = sh(lab_env(state_->path() + "/lab") + kSrc + "/scripts/lab.sh up 5");
    up_ok_ = up.rc == 0;
    up_log_ = up.out;
  }
  static void TearDownTestSuite() {
    Outcome down = sh(lab_env(state_->path() + "/lab") + kSrc + "/scripts/lab.sh down");
    EXPECT_EQ(down.rc, 0) << down.out;
    EXPECT_EQ(capture("ip netns list | grep -c '^" + kLab + "-' || true"), "0\n");
    delete state_;
  }
  void SetUp() override { ASSERT_TRUE(up_ok_) << up_log_; }
  void TearDown() override {
    if (HasFailure())
      std::cerr << "--- controller log (tail) ---\n"
                << capture("tail -n 40 " + lab_dir() + "/logs/controller.log") << "\n";
  }

  static std::string cli_env() {
    std::string s = state_->path() + "/lab";
    return "FAULTLINE_CONTROLLER=unix:" + s + "/controller.sock FAULTLINE_TLS_DIR=" + s +
           "/certs FAULTLINE_TOKEN_FILE=" + s + "/admin.token FAULTLINE_LAB_NET=" + kNet + " ";
  }
  static std::string lab_dir() { return state_->path() + "/lab"; }

  // The run's journal as JSON, and which nodes each fault was applied / failed / reverted on.
  struct Journal {
    nlohmann::json j;
    std::map<std::string, std::set<std::string>> applied, reverted, failed;
    std::map<std::string, std::string> failure;  // "fault@node" -> error
    std::string reason, verdict;
  };
  static Journal read_journal(const std::string& path) {
    Journal r;
    std::ifstream in(path);
    if (!in) return r;
    r.j = nlohmann::json::parse(in, nullptr, false);
    for (const auto& ev : r.j.value("events", nlohmann::json::array())) {
      if (!ev.contains("fault")) continue;
      const auto& f = ev["fault"];
      std::string name = f.value("fault_name", ""), node = f.value("node", "");
      std::string type = ev.value("type", "");
      if (type == "EVENT_TYPE_FAULT_APPLIED") r.applied[name].insert(node);
      if (type == "EVENT_TYPE_FAULT_REVERTED") r.reverted[name].insert(node);
      if (type == "EVENT_TYPE_FAULT_FAILED") {
        r.failed[name].insert(node);
        r.failure[name + "@" + node] = f.value("error", "");
      }
    }
    if (r.j.contains("summary")) {
      r.reason = r.j["summary"].value("reason", "");
      r.verdict = r.j["summary"].value("verdict", "");
    }
    return r;
  }

  static TempDir* state_;
  static bool up_ok_;
  static std::string up_log_;
};
TempDir* Lab::state_ = nullptr;
bool Lab::up_ok_ = false;
std::string Lab::up_log_;

TEST_F(Lab, MultiNodeExperimentHitsThePlannedNodesAndReportsEachOne) {
  TempDir tmp;
  std::string json = tmp.file("run.json");
  // The run in the background; latency is measured from outside while it injects.
  ChildProcess run({"/bin/sh", "-c",
                    cli_env() + kBin + "/faultline run --seed 11 --json " + json + " " + kSrc +
                        "/experiments/lab/multi-node.yaml"},
                   tmp.file("run.log"), tmp.file("run.log"));
  // Steady state and the first packets through the queue are done well within 3 s of 8.
  std::this_thread::sleep_for(3s);
  std::map<int, double> latency;
  for (int web : {1, 3, 5}) latency[web] = http_seconds(web);
  std::map<int, int> rules;
  for (int web : {1, 3, 5}) rules[web] = nfqueue_rules(web);
  ASSERT_EQ(run.wait(60s), 0) << read_file(tmp.file("run.log"));

  Journal j = read_journal(json);
  ASSERT_FALSE(j.j.is_discarded()) << read_file(json);
  EXPECT_EQ(j.verdict, "RUN_STATE_PASSED") << j.reason;
  // 50% of the three web nodes is two; one of the two db nodes.
  ASSERT_EQ(j.applied["slow-web"].size(), 2u) << read_file(tmp.file("run.log"));
  ASSERT_EQ(j.applied["kill-db-worker"].size(), 1u);
  EXPECT_EQ(j.reverted["slow-web"], j.applied["slow-web"]);
  EXPECT_TRUE(j.failed.empty());
  for (const auto& n : j.applied["slow-web"])
    EXPECT_TRUE(n == "node-1" || n == "node-3" || n == "node-5") << n;
  std::string db = *j.applied["kill-db-worker"].begin();
  EXPECT_TRUE(db == "node-2" || db == "node-4") << db;

  // The chosen web nodes answered 150 ms slower, the spared one did not.
  for (int web : {1, 3, 5}) {
    bool hit = j.applied["slow-web"].count("node-" + std::to_string(web)) > 0;
    if (hit) {
      EXPECT_GE(latency[web], 0.14) << "node-" << web << " was chosen but not slowed";
      EXPECT_GE(rules[web], 1) << "node-" << web;
    } else {
      EXPECT_GE(latency[web], 0) << "node-" << web << " did not answer";
      EXPECT_LT(latency[web], 0.1) << "node-" << web << " was spared but slowed";
      EXPECT_EQ(rules[web], 0) << "node-" << web;
    }
    EXPECT_EQ(nfqueue_rules(web), 0) << "node-" << web << " kept a rule after the run";
  }
  // The journal names the placement and the seed; the terminal summary lists every node.
  std::string log = read_file(tmp.file("run.log"));
  EXPECT_NE(log.find("target half-the-web-nodes -> "), std::string::npos) << log;
  EXPECT_NE(log.find("seed 11"), std::string::npos) << log;
  for (const auto& n : j.applied["slow-web"])
    EXPECT_NE(log.find("slow-web (network_delay) on " + n), std::string::npos) << log;
  EXPECT_NE(log.find("kill-db-worker (process_kill) on " + db), std::string::npos) << log;

  // The same seed picks the same nodes in a plan.
  Outcome plan = sh(cli_env() + kBin + "/faultline plan --seed 11 " + kSrc +
                    "/experiments/lab/multi-node.yaml");
  ASSERT_EQ(plan.rc, 0) << plan.out;
  std::string chosen;
  for (const auto& n : j.applied["slow-web"]) chosen += (chosen.empty() ? "" : ", ") + n;
  EXPECT_NE(plan.out.find("half-the-web-nodes -> " + chosen), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("spared node-"), std::string::npos) << plan.out;
}

// A fleet-wide delay on every web node; node-3's link to the controller is cut mid-run.
std::string all_web_delay(const std::string& policy) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: web-delay-" + policy +
         "}\non_node_failure: " + policy +
         "\ntargets:\n  web:\n    nodes: {selector: {role: web}, mode: all}\n"
         "    network: {interface: eth0, direction: egress}\n"
         "faults:\n  - name: slow-web\n    kind: network_delay\n    target: web\n"
         "    duration: 12s\n    params: {delay: 50ms}\n";
}

TEST_F(Lab, ANodeThatDropsOutMidRunIsMarkedRevertsByItselfAndTheRunContinues) {
  TempDir tmp;
  write_file(tmp.file("x.yaml"), all_web_delay("continue"));
  std::string json = tmp.file("run.json");
  ChildProcess run({"/bin/sh", "-c",
                    cli_env() + kBin + "/faultline run --json " + json + " " + tmp.file("x.yaml")},
                   tmp.file("run.log"), tmp.file("run.log"));
  ASSERT_TRUE(wait_until([] { return nfqueue_rules(3) > 0; }, 10s))
      << read_file(tmp.file("run.log"));
  // Partition node-3 from everything (the bridge port of its only link goes down).
  ASSERT_EQ(sh("ip -n " + kLab + "-br link set vn3 down").rc, 0);
  auto cut = std::chrono::steady_clock::now();
  // Its injector hears nothing for its 2 s contact grace and reverts by itself, while cut off.
  bool reverted = wait_until([] { return nfqueue_rules(3) == 0; }, 8s);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - cut).count();
  EXPECT_TRUE(reverted) << "node-3 kept its fault while partitioned";
  EXPECT_LT(took, 6.0);
  EXPECT_GT(nfqueue_rules(1), 0) << "the other nodes keep theirs";
  ASSERT_EQ(sh("ip -n " + kLab + "-br link set vn3 up").rc, 0);
  ASSERT_EQ(run.wait(60s), 0) << read_file(tmp.file("run.log"));

  Journal j = read_journal(json);
  EXPECT_EQ(j.verdict, "RUN_STATE_PASSED") << j.reason;
  EXPECT_NE(j.reason.find("continued without node-3"), std::string::npos) << j.reason;
  EXPECT_EQ(j.failed["slow-web"], std::set<std::string>{"node-3"});
  EXPECT_NE(j.failure["slow-web@node-3"].find("disconnected mid-run"), std::string::npos)
      << j.failure["slow-web@node-3"];
  EXPECT_EQ(j.reverted["slow-web"], (std::set<std::string>{"node-1", "node-5"}));
  for (int web : {1, 3, 5}) EXPECT_EQ(nfqueue_rules(web), 0) << "node-" << web;

  // Back on the network, node-3 dials in again and the controller confirms the lost fault's
  // revert in the audit trail.
  std::string audit = lab_dir() + "/controller/audit.log";
  EXPECT_TRUE(wait_until(
      [&] { return read_file(audit).find("fault.confirmed_reverted") != std::string::npos; }, 20s))
      << read_file(audit);
  Outcome inj = sh(cli_env() + kBin + "/faultline injectors");
  EXPECT_NE(inj.out.find("node-3"), std::string::npos) << inj.out;
}

TEST_F(Lab, ANodeThatCannotApplyAbortsOrIsSkippedAsDeclared) {
  // node-4's demo service (supervisor and worker) is stopped, so a pause of the demo worker
  // on every db node can be applied on node-2 and not on node-4.
  std::string pids = capture("ip netns pids " + kLab + "-n4");
  for (size_t at = 0; at < pids.size();) {
    size_t nl = pids.find('\n', at);
    std::string pid = pids.substr(at, nl - at);
    at = nl == std::string::npos ? pids.size() : nl + 1;
    if (!pid.empty() && read_file("/proc/" + pid + "/comm").rfind("faultline-demo", 0) == 0)
      sh("kill -9 " + pid);
  }
  auto experiment = [](const std::string& policy) {
    return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: pause-db-" + policy +
           "}\non_node_failure: " + policy +
           "\ntargets:\n  db:\n    nodes: {selector: {role: db}, mode: all}\n"
           "    process: {cmdline: \"faultline-demo serve\"}\n"
           "faults:\n  - name: pause-db\n    kind: process_pause\n    target: db\n"
           "    duration: 3s\n";
  };
  TempDir tmp;
  write_file(tmp.file("abort.yaml"), experiment("abort"));
  write_file(tmp.file("continue.yaml"), experiment("continue"));

  Outcome aborted = sh(cli_env() + kBin + "/faultline run --json " + tmp.file("a.json") + " " +
                       tmp.file("abort.yaml"));
  EXPECT_EQ(aborted.rc, 3) << aborted.out;
  Journal a = read_journal(tmp.file("a.json"));
  EXPECT_EQ(a.verdict, "RUN_STATE_ERROR");
  EXPECT_NE(a.reason.find("on node node-4"), std::string::npos) << a.reason;
  EXPECT_EQ(a.failed["pause-db"], std::set<std::string>{"node-4"});
  // What node-2 applied was taken back at once, not held for the 3 s.
  EXPECT_EQ(a.reverted["pause-db"], std::set<std::string>{"node-2"});

  Outcome went_on = sh(cli_env() + kBin + "/faultline run --json " + tmp.file("c.json") + " " +
                       tmp.file("continue.yaml"));
  EXPECT_EQ(went_on.rc, 0) << went_on.out;
  Journal c = read_journal(tmp.file("c.json"));
  EXPECT_EQ(c.verdict, "RUN_STATE_PASSED") << c.reason;
  EXPECT_NE(c.reason.find("continued without node-4"), std::string::npos) << c.reason;
  EXPECT_EQ(c.applied["pause-db"], std::set<std::string>{"node-2"});
  EXPECT_EQ(c.reverted["pause-db"], std::set<std::string>{"node-2"});
}

}  // namespace
}  // namespace faultline::testing
