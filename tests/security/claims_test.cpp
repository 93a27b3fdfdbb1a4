// Issue 19 item 8: two embedded runs on one target interfered: run A's revert ended run B's
// pause early, and a delay and a 100% loss on the same namespace both "applied" while the
// delay saw no packets; both runs passed. Scopes are now held machine-wide, by every process
// that applies faults from one state directory, and a kill -9 lets go of them.
#include <gtest/gtest.h>

#include <csignal>

#include "security/security_fixture.h"
#include "support/two_hosts.h"

namespace faultline::testing {
namespace {

char process_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

class NodeClaims : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> run_in_background(const std::string& file, const std::string& tag) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{std::string(FAULTLINE_BIN_DIR) + "/faultline", "run", file},
        fx_.dir().file(tag + ".out"), fx_.dir().file(tag + ".err"));
  }
  std::string out(const std::string& tag) { return read_file(fx_.dir().file(tag + ".out")); }
  std::string pause_yaml(const std::string& name, const std::string& duration) {
    std::string file = fx_.dir().file(name + ".yaml");
    write_file(file, "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: " + name +
                         "}\ntargets:\n  t: {process: {pidfile: " + fx_.dir().file("target.pid") +
                         "}}\nfaults:\n  - {name: freeze, kind: process_pause, target: t, "
                         "duration: " +
                         duration + "}\n");
    return file;
  }
  SecurityFixture fx_;  // only for its state directory and CLI
};

TEST_F(NodeClaims, ASecondRunOnAPausedProcessIsRefusedAndCannotEndTheFirstsPause) {
  ChildProcess target({"/bin/sleep", "1000"});
  write_file(fx_.dir().file("target.pid"), std::to_string(target.pid()) + "\n");
  auto a = run_in_background(pause_yaml("first", "4s"), "a");
  ASSERT_TRUE(wait_until([&] { return process_state(target.pid()) == 'T'; }, 10000ms)) << out("a");
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx_.dir());
  int code = cli.run({"run", pause_yaml("second", "300ms")});
  EXPECT_NE(code, 0) << cli.out();
  EXPECT_NE(cli.out().find("is held on this node by run r-"), std::string::npos)
      << cli.out() << cli.err();
  EXPECT_NE(cli.out().find("process_pause"), std::string::npos) << cli.out();
  // The first run's pause is still in force after the second gave up.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(process_state(target.pid()), 'T');
  EXPECT_EQ(a->wait(20000ms), 0) << out("a");
  EXPECT_NE(process_state(target.pid()), 'T');
}

TEST_F(NodeClaims, TwoShapersOnOneNamespaceAreRefusedAndAKilledHolderLetsGo) {
  TwoHosts net;
  ASSERT_TRUE(net.ok());
  auto shaping = [&](const std::string& name, const std::string& fault) {
    std::string file = fx_.dir().file(name + ".yaml");
    write_file(file, "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: " + name +
                         "}\ntargets:\n  n: {network: {namespace: " + net.a() +
                         ", interface: a0}}\nfaults:\n  - {name: f, target: n, " + fault + "}\n");
    return file;
  };
  auto delay = run_in_background(
      shaping("delay", "kind: network_delay, params: {delay: 50ms}, duration: 30s"), "delay");
  ASSERT_TRUE(
      wait_until([&] { return out("delay").find("applied") != std::string::npos; }, 10000ms))
      << out("delay") << read_file(fx_.dir().file("delay.err"));
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx_.dir());
  EXPECT_NE(cli.run({"run",
                     shaping("loss", "kind: network_loss, params: {percent: 100%}, duration: 1s")}),
            0);
  EXPECT_NE(cli.out().find("network namespace net:["), std::string::npos) << cli.out() << cli.err();
  EXPECT_NE(cli.out().find("is held on this node by run r-"), std::string::npos) << cli.out();
  // kill -9: the kernel drops its claim with it, and the next run (which first takes back
  // what the dead one left, from the ledger) gets the namespace.
  delay->signal(SIGKILL);
  delay->wait(5000ms);
  EXPECT_EQ(
      cli.run({"run",
               shaping("loss2", "kind: network_loss, params: {percent: 100%}, duration: 300ms")}),
      0)
      << cli.out() << cli.err();
  EXPECT_EQ(faultline_chains(net.a()), "");
}

}  // namespace
}  // namespace faultline::testing
