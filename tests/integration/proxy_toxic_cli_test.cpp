// proxy_toxic from an experiment file, the CI case with no privileges anywhere: `faultline
// proxy` and `faultline run` both as nobody with no capabilities, a real Node.js server behind
// the proxy, curl as the client. What curl sees during the run, what the journal counts, and
// that no toxic (nor a down) is left after the run, after a kill -9 of it (the proxy drops the
// toxic, or enables itself again, when its lease is not renewed; the next run's ledger recovery
// takes a toxic back at once).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <regex>

#include "support/child_process.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

std::vector<std::string> as_nobody(std::vector<std::string> argv) {
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=65534",       "--regid=65534",
                                  "--clear-groups",   "--inh-caps=-all",     "--bounding-set=-all",
                                  "/usr/bin/env",     "FAULTLINE_STATE_DIR="};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

class CliProxyToxic : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop to nobody";
    ::chmod(dir_.path().c_str(), 0755);
    state_ = dir_.file("state");
    ::mkdir(state_.c_str(), 0700);
    ASSERT_EQ(::chown(state_.c_str(), 65534, 65534), 0);
    server_port_ = free_port();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            "/usr/bin/node",
            std::string(FAULTLINE_SOURCE_DIR) + "/tests/support/http_server/server.js", "127.0.0.1",
            std::to_string(server_port_)},
        dir_.file("node.out"));
    proxy_ = std::make_unique<ChildProcess>(nobody({kBin + "/faultline", "proxy", "--port", "0"}),
                                            dir_.file("proxy.out"), dir_.file("proxy.err"));
    ASSERT_TRUE(wait_until([&] { return api_from_output(); }, 5000ms))
        << read_file(dir_.file("proxy.err"));
    listen_port_ = free_port();
    std::string made =
        capture("curl -s -XPOST http://" + api_ + "/proxies -d '{\"name\":\"web\"," +
                "\"listen\":\"127.0.0.1:" + std::to_string(listen_port_) +
                "\",\"upstream\":\"127.0.0.1:" + std::to_string(server_port_) + "\"}'");
    ASSERT_NE(made.find("\"name\":\"web\""), std::string::npos) << made;
    ASSERT_TRUE(wait_until([&] { return status("/v1/charge") == "200"; }, 10000ms));
  }

  // The run and the proxy as nobody, FAULTLINE_STATE_DIR a directory nobody owns.
  std::vector<std::string> nobody(std::vector<std::string> argv) {
    auto out = as_nobody(std::move(argv));
    out[7] += state_;
    return out;
  }
  bool api_from_output() {
    std::smatch m;
    std::string out = read_file(dir_.file("proxy.out"));
    if (!std::regex_search(out, m, std::regex("API on (127\\.0\\.0\\.1:[0-9]+)"))) return false;
    api_ = m[1];
    return true;
  }
  std::string status(const std::string& path) {
    return capture("curl -s -o /dev/null -m 3 -w '%{http_code}' http://127.0.0.1:" +
                   std::to_string(listen_port_) + path);
  }
  std::string toxics() { return capture("curl -s http://" + api_ + "/proxies/web/toxics"); }
  std::string experiment(const std::string& duration, const std::string& params) {
    std::string exp = dir_.file("toxic.yaml");
    write_file(exp,
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: web-toxic}\n"
               "targets:\n"
               "  web: {proxy: {name: web, api: \"" +
                   api_ +
                   "\"}}\n"
                   "faults:\n"
                   "  - name: toxic\n"
                   "    kind: proxy_toxic\n"
                   "    target: web\n"
                   "    duration: " +
                   duration + "\n    params: " + params + "\n");
    ::chmod(exp.c_str(), 0644);
    return exp;
  }

  // A 60 s run of `params`, killed with -9 once `path` answers `status` through the proxy
  // (and `while_held` has looked at the proxy).
  void run_and_kill_once(const std::string& params, const std::string& path,
                         const std::string& status_while_held,
                         const std::function<void()>& while_held = {}) {
    std::string exp = experiment("60s", params);
    ChildProcess run(nobody({kBin + "/faultline", "run", exp}), dir_.file("out.txt"),
                     dir_.file("err.txt"));
    ASSERT_TRUE(wait_until([&] { return status(path) == status_while_held; }, 10000ms))
        << read_file(dir_.file("err.txt"));
    if (while_held) while_held();
    run.signal(SIGKILL);
    run.wait(5000ms);
  }

  TempDir dir_;
  std::string state_, api_;
  int server_port_ = 0, listen_port_ = 0;
  std::unique_ptr<ChildProcess> server_, proxy_;
};

const char* kAbortCharges =
    "{type: http_abort, attributes: {status: 503, method: GET, path: /v1/charge, body: down}}";

TEST_F(CliProxyToxic, AnUnprivilegedRunAbortsOneRouteAndTheJournalCountsIt) {
  std::string exp = experiment("3s", kAbortCharges);
  std::string plan = capture(kBin + "/faultline plan " + exp + " 2>&1");
  EXPECT_NE(plan.find("toxic (proxy_toxic)"), std::string::npos) << plan;
  EXPECT_NE(plan.find("proxy web at " + api_), std::string::npos) << plan;
  ChildProcess run(nobody({kBin + "/faultline", "run", exp}), dir_.file("out.txt"),
                   dir_.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return status("/v1/charge") == "503"; }, 10000ms))
      << read_file(dir_.file("out.txt")) << read_file(dir_.file("err.txt"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status("/v1/charge"), "503");
  EXPECT_EQ(status("/v1/quote"), "200");
  // The toxic the run added is leased: the proxy drops it if the run stops renewing.
  EXPECT_NE(toxics().find("\"lease_ms\":10000"), std::string::npos) << toxics();
  ASSERT_EQ(run.wait(30000ms), 0) << read_file(dir_.file("out.txt"))
                                  << read_file(dir_.file("err.txt"));
  std::string out = read_file(dir_.file("out.txt"));
  EXPECT_TRUE(std::regex_search(
      out, std::regex("fault toxic reverted on .+; achieved: took effect on [4-9] connections, "
                      "[5-9] requests examined, [4-9] aborted")))
      << out;
  EXPECT_EQ(toxics(), "[]");
  EXPECT_EQ(status("/v1/charge"), "200");
}

TEST_F(CliProxyToxic, DownRefusesConnectionsForTheFaultAndTheProxyComesBack) {
  std::string exp = experiment("2s", "{type: down}");
  ChildProcess run(nobody({kBin + "/faultline", "run", exp}), dir_.file("out.txt"),
                   dir_.file("err.txt"));
  ASSERT_TRUE(wait_until([&] { return status("/v1/quote") == "000"; }, 10000ms))
      << read_file(dir_.file("err.txt"));
  ASSERT_EQ(run.wait(30000ms), 0) << read_file(dir_.file("out.txt"));
  EXPECT_EQ(status("/v1/quote"), "200");
}

TEST_F(CliProxyToxic, AKilledRunsToxicEndsWithItsLeaseWithNobodyToTakeItBack) {
  ASSERT_NO_FATAL_FAILURE(run_and_kill_once(kAbortCharges, "/v1/charge", "503"));
  EXPECT_EQ(status("/v1/charge"), "503");  // nothing took it back yet
  // The lease (10 s from the last renewal, every 2 s) runs out in the proxy itself.
  EXPECT_TRUE(wait_until([&] { return toxics() == "[]"; }, 15000ms)) << toxics();
  EXPECT_EQ(status("/v1/charge"), "200");
}

TEST_F(CliProxyToxic, AKilledRunsDownEndsWithItsLease) {
  ASSERT_NO_FATAL_FAILURE(run_and_kill_once("{type: down}", "/v1/quote", "000", [&] {
    // The down the run took is leased: the proxy enables itself if the run stops renewing.
    std::string held = capture("curl -s http://" + api_ + "/proxies/web");
    EXPECT_NE(held.find("\"lease_ms\":10000"), std::string::npos) << held;
  }));
  EXPECT_EQ(status("/v1/quote"), "000");  // nothing brought it back yet
  // The lease (10 s from the last renewal, every 2 s) runs out in the proxy itself, with
  // nobody restarting anything.
  EXPECT_TRUE(wait_until([&] { return status("/v1/quote") == "200"; }, 15000ms))
      << capture("curl -s http://" + api_ + "/proxies/web");
  std::string proxy = capture("curl -s http://" + api_ + "/proxies/web");
  EXPECT_NE(proxy.find("\"enabled\":true"), std::string::npos) << proxy;
  EXPECT_EQ(proxy.find("lease_ms"), std::string::npos) << proxy;
}

TEST_F(CliProxyToxic, AKilledRunsToxicIsRemovedByTheNextRunsRecovery) {
  ASSERT_NO_FATAL_FAILURE(run_and_kill_once(kAbortCharges, "/v1/charge", "503"));
  ASSERT_NE(toxics(), "[]");
  const std::string exp = dir_.file("toxic.yaml");
  // Well inside the lease: the ledger the killed run kept names the toxic.
  ChildProcess plan(nobody({kBin + "/faultline", "plan", exp}), dir_.file("plan.txt"),
                    dir_.file("plan.err"));
  ASSERT_EQ(plan.wait(10000ms), 0) << read_file(dir_.file("plan.err"));
  EXPECT_EQ(toxics(), "[]");
  EXPECT_EQ(status("/v1/charge"), "200");
}

}  // namespace
}  // namespace faultline::testing
