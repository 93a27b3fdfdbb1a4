// http_fault and dns_fault from an experiment file, run by the faultline command (embedded
// controller and injector) against a real Node.js server and a real dnsmasq in test
// namespaces: what curl and dig see during the run, what the journal says, and that nothing
// is left after the run, or after a kill -9 of it.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <thread>

#include "support/child_process.h"
#include "support/two_hosts.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

class CliHttpFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!net_.ok()) GTEST_SKIP() << "needs root for network namespaces";
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    server_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/sbin/ip", "netns", "exec", net_.b(), "node",
        std::string(FAULTLINE_SOURCE_DIR) + "/tests/support/http_server/server.js", "10.77.0.2",
        "8080"});
    ASSERT_TRUE(wait_until([&] { return status("/v1/charge") == "200"; }, 10000ms));
  }
  void TearDown() override { unsetenv("FAULTLINE_STATE_DIR"); }

  std::string status(const std::string& path) {
    return net_.in_a("curl -s -o /dev/null -m 3 -w '%{http_code}' http://10.77.0.2:8080" + path);
  }
  std::string experiment(const std::string& duration) {
    std::string exp = dir_.file("http.yaml");
    write_file(exp,
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: charge-503}\n"
               "targets:\n"
               "  payments:\n"
               "    network: {namespace: " +
                   net_.a() +
                   ", ports: [8080], destinations: [10.77.0.2/32], direction: egress}\n"
                   "faults:\n"
                   "  - name: charge-503\n"
                   "    kind: http_fault\n"
                   "    target: payments\n"
                   "    duration: " +
                   duration +
                   "\n"
                   "    params:\n"
                   "      drain: 1s\n"
                   "      rules:\n"
                   "        - match: {method: [GET], path: {prefix: /v1/charge}}\n"
                   "          abort: {status: 503, body: unavailable}\n");
    return exp;
  }
  bool interceptor_running() { return capture("pgrep -x faultline-inter || true") != ""; }

  TwoHosts net_;
  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(CliHttpFault, AnExperimentAbortsRequestsAndTheJournalCountsThem) {
  std::string exp = experiment("3s");
  std::string plan = capture(kBin + "/faultline plan " + exp + " 2>&1");
  EXPECT_NE(plan.find("charge-503 (http_fault)"), std::string::npos) << plan;
  ChildProcess run({kBin + "/faultline", "run", exp}, dir_.file("out.txt"), dir_.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return status("/v1/charge") == "503"; }, 10000ms))
      << read_file(dir_.file("err.txt"));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(status("/v1/charge"), "503");
  EXPECT_EQ(status("/v1/quote"), "200");
  ASSERT_EQ(run.wait(30000ms), 0) << read_file(dir_.file("out.txt"))
                                  << read_file(dir_.file("err.txt"));
  std::string out = read_file(dir_.file("out.txt"));
  EXPECT_TRUE(std::regex_search(
      out, std::regex("fault charge-503 reverted on .+; achieved: [0-9]+ requests \\([0-9]+ "
                      "matched a rule\\): [5-9] aborted, [1-9][0-9]* passed")))
      << out;
  EXPECT_EQ(status("/v1/charge"), "200");
  EXPECT_EQ(faultline_chains(net_.a()), "");
  EXPECT_FALSE(interceptor_running());
}

TEST_F(CliHttpFault, AKilledRunLeavesNoInterceptionBehind) {
  std::string exp = experiment("60s");
  auto run =
      std::make_unique<ChildProcess>(std::vector<std::string>{kBin + "/faultline", "run", exp},
                                     dir_.file("out.txt"), dir_.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return status("/v1/charge") == "503"; }, 10000ms))
      << read_file(dir_.file("err.txt"));
  run->signal(SIGKILL);
  run->wait(5000ms);
  // Its helper saw its injector go: it stops new redirects, drains (1 s) and takes its rules
  // out, with nobody to tell it to.
  EXPECT_TRUE(wait_until([&] { return !interceptor_running(); }, 5000ms));
  EXPECT_EQ(faultline_chains(net_.a()), "");
  EXPECT_EQ(status("/v1/charge"), "200");
  // The next run on this machine finds the fault in the ledger and finishes the job quietly.
  std::string plan = capture(kBin + "/faultline plan " + exp + " 2>&1");
  EXPECT_NE(plan.find("charge-503 (http_fault)"), std::string::npos) << plan;
  EXPECT_EQ(faultline_chains(net_.a()), "");
}

class CliDnsFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok()) GTEST_SKIP() << "needs root for a network namespace";
    if (capture("command -v dnsmasq dig") == "") GTEST_SKIP() << "dnsmasq and dig not installed";
    ASSERT_TRUE(ns_.ip("link set lo up"));
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    dnsmasq_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/sbin/ip", "netns", "exec", ns_.name(), "dnsmasq", "--keep-in-foreground",
        "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.153",
        "--user=root", "--pid-file=", "--address=/db.corp.test/10.1.2.4"});
    ASSERT_TRUE(wait_until([&] { return dig() == "NOERROR"; }, 5000ms));
  }
  void TearDown() override { unsetenv("FAULTLINE_STATE_DIR"); }
  std::string dig() {
    std::string out = capture("ip netns exec " + ns_.name() +
                              " dig +time=1 +tries=1 @127.0.0.153 db.corp.test 2>&1");
    std::smatch m;
    return std::regex_search(out, m, std::regex("status: ([A-Z]+)")) ? std::string(m[1])
                                                                     : "TIMEOUT";
  }

  TestNetns ns_;
  TempDir dir_;
  std::unique_ptr<ChildProcess> dnsmasq_;
};

TEST_F(CliDnsFault, ARunFalsifiesAnswersAndAKill9LeavesNothingBehind) {
  std::string exp = dir_.file("dns.yaml");
  write_file(exp,
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: db-gone}\n"
             "targets:\n  app: {network: {namespace: " +
                 ns_.name() +
                 "}}\n"
                 "faults:\n"
                 "  - name: db-nxdomain\n    kind: dns_fault\n    target: app\n"
                 "    duration: 60s\n"
                 "    params:\n      servers: [127.0.0.153]\n      drain: 1s\n"
                 "      rules: [{names: [\"*.corp.test\"], answer: nxdomain}]\n");
  auto run =
      std::make_unique<ChildProcess>(std::vector<std::string>{kBin + "/faultline", "run", exp},
                                     dir_.file("out.txt"), dir_.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return dig() == "NXDOMAIN"; }, 10000ms))
      << read_file(dir_.file("err.txt"));
  run->signal(SIGKILL);
  run->wait(5000ms);
  EXPECT_TRUE(
      wait_until([&] { return capture("pgrep -x faultline-inter || true") == ""; }, 5000ms));
  EXPECT_EQ(faultline_chains(ns_.name()), "");
  EXPECT_EQ(dig(), "NOERROR");
  std::string plan = capture(kBin + "/faultline plan " + exp + " 2>&1");
  EXPECT_NE(plan.find("db-nxdomain (dns_fault)"), std::string::npos) << plan;
}

}  // namespace
}  // namespace faultline::testing
