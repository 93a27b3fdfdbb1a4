// The fleet's halt switch on the real daemons: a faultline-controller with API tokens and two
// faultline-injectors (node-a, node-b, plaintext on loopback), driven by the real CLI. A run
// pauses one `sleep` process on each node; `faultline halt` must end it, resume both, refuse
// new runs and schedule fires, stay halted across a controller restart, and be lifted only by
// an admin.
#include <signal.h>

#include <array>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

class Halt : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    setenv("FAULTLINE_INSECURE", "1", 1);
    addr_ = "127.0.0.1:" + std::to_string(free_port());
    const std::vector<std::array<std::string, 3>> tokens = {
        {"viewer", "vera", "viewer-secret-0123456789abcdef"},
        {"operator", "otto", "operator-secret-0123456789abcdef"},
        {"admin", "ada", "admin-secret-0123456789abcdef0"}};
    std::string csv;
    for (const auto& [role, name, secret] : tokens) {
      csv += secret + "," + name + "," + role + "\n";
      write_secret_file(dir_.file(role + ".tok"), secret + "\n");
    }
    write_secret_file(dir_.file("tokens.csv"), csv);
    for (const std::string node : {"a", "b"}) {
      sleepers_.push_back(
          std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "300"}));
      write_file(dir_.file("sleeper-" + node + ".pid"),
                 std::to_string(sleepers_.back()->pid()) + "\n");
    }
  }
  void TearDown() override {
    for (auto& i : injectors_) i.reset();
    controller_.reset();
  }

  std::string token(const std::string& who) { return "--token-file=" + dir_.file(who + ".tok"); }

  void start_controller() {
    log_ = dir_.file("controller" + std::to_string(++starts_) + ".log");
    controller_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-controller", "--listen", addr_, "--insecure",
                                 "--otlp-listen", "off", "--token-file", dir_.file("tokens.csv")},
        "", log_);
  }
  void start_injectors() {
    for (const std::string node : {"a", "b"}) {
      injectors_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{kBin + "/faultline-injector", "--insecure", "--controller",
                                   addr_, "--node", "node-" + node, "--label", "slot=" + node,
                                   "--ledger", dir_.file("ledger-" + node)},
          "", dir_.file("injector-" + node + ".log")));
      ASSERT_TRUE(cli_.wait_connected(addr_, "node-" + node, {token("viewer")}))
          << read_file(log_) << read_file(dir_.file("injector-" + node + ".log"));
    }
  }

  int cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 30000ms) {
    int code = cli_.run(std::move(args), timeout);
    out_ = cli_.out(), err_ = cli_.err();
    return code;
  }

  // Pauses the sleeper of each node, both at once, for `duration`.
  std::string experiment(const std::string& duration) {
    std::string path = dir_.file("pause-both-" + duration + ".yaml");
    std::string targets, faults;
    for (const std::string node : {"a", "b"}) {
      targets += "  sleeper-" + node +
                 ":\n    process: {pidfile: " + dir_.file("sleeper-" + node + ".pid") +
                 "}\n    nodes: {selector: {slot: " + node + "}}\n";
      faults += "      - {name: pause-" + node + ", kind: process_pause, target: sleeper-" + node +
                ", duration: " + duration + "}\n";
    }
    write_file(path,
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: pause-both\n"
               "targets:\n" +
                   targets + "faults:\n  - parallel:\n" + faults);
    return path;
  }

  bool both_paused() {
    return process_state(sleepers_[0]->pid()) == 'T' && process_state(sleepers_[1]->pid()) == 'T';
  }
  bool both_running() {
    return process_state(sleepers_[0]->pid()) != 'T' && process_state(sleepers_[1]->pid()) != 'T';
  }

  TempDir dir_;
  FaultlineCli cli_{kBin, dir_};
  std::vector<std::unique_ptr<ChildProcess>> sleepers_, injectors_;
  std::unique_ptr<ChildProcess> controller_;
  std::string addr_, log_, out_, err_;
  int starts_ = 0;
};

TEST_F(Halt, EndsEveryFaultOnEveryNodeRefusesRunsAndFiresAndOutlivesARestart) {
  start_controller();
  start_injectors();
  auto run = std::make_unique<ChildProcess>(
      std::vector<std::string>{kBin + "/faultline", token("operator"), "run", experiment("60s"),
                               "--controller", addr_},
      dir_.file("run.out"), dir_.file("run.err"));
  ASSERT_TRUE(wait_until([&] { return both_paused(); }, 15000ms))
      << read_file(dir_.file("run.err")) << read_file(log_);

  // A viewer may not pull it; the refusal is said and changes nothing.
  EXPECT_EQ(cli({token("viewer"), "halt", "--reason", "drill", "--controller", addr_}), 3);
  EXPECT_NE(err_.find("Halt needs role operator; token vera has role viewer"), std::string::npos)
      << err_;
  EXPECT_TRUE(both_paused());
  // A reason is required and must be one plain line.
  EXPECT_EQ(cli({token("operator"), "halt", "--reason", "two\nlines", "--controller", addr_}), 3);
  EXPECT_NE(err_.find("control character"), std::string::npos) << err_;

  ASSERT_EQ(
      cli({token("operator"), "halt", "--reason", "db failover drill", "--controller", addr_}), 0)
      << out_ << err_ << read_file(log_);
  EXPECT_TRUE(std::regex_search(out_, std::regex("^fleet halted by otto at [0-9-]+T[0-9:.]+Z: "
                                                 "db failover drill\n")))
      << out_;
  EXPECT_TRUE(std::regex_search(
      out_, std::regex("\n1 run aborted; 2 faults reverted on node-a, node-b; took [0-9]+ ms\n")))
      << out_;
  // Done when the command returns: both processes run again, and the run ended ABORTED.
  EXPECT_TRUE(both_running());
  EXPECT_EQ(run->wait(10000ms), 2) << read_file(dir_.file("run.out"));
  EXPECT_NE(read_file(dir_.file("run.out")).find("fleet halted by otto: db failover drill"),
            std::string::npos)
      << read_file(dir_.file("run.out"));

  // Refused from now on, with who, when and why.
  EXPECT_EQ(cli({token("operator"), "run", experiment("1s"), "--controller", addr_}), 3);
  EXPECT_NE(err_.find("the fleet is halted by otto at "), std::string::npos) << err_;
  EXPECT_NE(err_.find(": db failover drill; no run starts until an admin lifts it"),
            std::string::npos)
      << err_;
  EXPECT_TRUE(both_running());
  ASSERT_EQ(cli({token("viewer"), "runs", "--controller", addr_}), 0) << err_;
  EXPECT_EQ(out_.rfind("FLEET HALTED by otto at ", 0), 0u) << out_;
  ASSERT_EQ(cli({token("viewer"), "injectors", "--controller", addr_}), 0) << err_;
  EXPECT_EQ(out_.rfind("FLEET HALTED by otto at ", 0), 0u) << out_;
  EXPECT_NE(out_.find("db failover drill (faultline unhalt lifts it)\n"), std::string::npos)
      << out_;

  // A schedule may be added, but its fires are refused.
  ASSERT_EQ(cli({token("operator"), "schedule", "--controller", addr_, "add", "pulse",
                 experiment("1s"), "--cron", "*/2 * * * * *"}),
            0)
      << err_;
  ASSERT_TRUE(wait_until(
      [&] {
        cli({token("viewer"), "schedule", "--controller", addr_, "list"});
        return out_.find("refused: the fleet is halted by otto") != std::string::npos;
      },
      8000ms))
      << out_;
  EXPECT_TRUE(both_running());
  ASSERT_EQ(cli({token("operator"), "schedule", "--controller", addr_, "pause", "pulse"}), 0);

  // A new controller process on the same store is still halted.
  controller_->signal(SIGTERM);
  ASSERT_EQ(controller_->wait(10000ms), 0);
  start_controller();
  ASSERT_TRUE(wait_until(
      [&] {
        return cli({token("viewer"), "injectors", "--controller", addr_}, 2000ms) == 0 &&
               out_.find("node-b\tstate=connected") != std::string::npos;
      },
      15000ms))
      << err_ << read_file(log_);
  EXPECT_EQ(out_.rfind("FLEET HALTED by otto at ", 0), 0u) << out_;
  EXPECT_EQ(cli({token("operator"), "run", experiment("1s"), "--controller", addr_}), 3);
  EXPECT_NE(err_.find("the fleet is halted by otto"), std::string::npos) << err_;

  // Only an admin lifts it; then runs go again.
  EXPECT_EQ(cli({token("operator"), "unhalt", "--controller", addr_}), 3);
  EXPECT_NE(err_.find("Unhalt needs role admin"), std::string::npos) << err_;
  ASSERT_EQ(cli({token("admin"), "unhalt", "--controller", addr_}), 0) << err_;
  EXPECT_NE(out_.find("halt lifted by ada (it was by otto at "), std::string::npos) << out_;
  EXPECT_EQ(cli({token("admin"), "unhalt", "--controller", addr_}), 3);
  EXPECT_NE(err_.find("the fleet is not halted"), std::string::npos) << err_;
  ASSERT_EQ(cli({token("viewer"), "runs", "--controller", addr_}), 0);
  EXPECT_EQ(out_.find("FLEET HALTED"), std::string::npos) << out_;
  EXPECT_EQ(cli({token("operator"), "run", experiment("1s"), "--controller", addr_}), 0)
      << out_ << err_;

  // Who pulled it, who was refused, and who lifted it are in the audit trail.
  std::string audit = read_file(dir_.file("audit.log"));
  EXPECT_NE(audit.find("Halt needs role operator"), std::string::npos);
  EXPECT_TRUE(std::regex_search(audit, std::regex("otto[^\n]*Halt[^\n]*reason: db failover drill")))
      << audit;
  EXPECT_NE(audit.find("Unhalt needs role admin"), std::string::npos);
  EXPECT_TRUE(std::regex_search(audit, std::regex("ada[^\n]*Unhalt[^\n]*lifted the halt")))
      << audit;
}

}  // namespace
}  // namespace faultline::testing
