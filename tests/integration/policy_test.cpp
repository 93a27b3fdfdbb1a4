// End to end: the injector's own policy refuses what the controller asks, through the real
// faultline-controller, faultline-injector and `faultline` CLI, against the real demo service.
#include <signal.h>

#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

class Policy : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    pidfile_ = dir_.file("demo.pid");
    // The daemons keep their ledger, store and audit log here, not on the machine.
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
  }

  // The demo alone (no supervisor): a kill that got through would leave it dead.
  void start_demo() {
    demo_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-demo", "serve", "--port", std::to_string(port_),
                                 "--pidfile", pidfile_},
        "", dir_.file("demo.err"));
    ASSERT_TRUE(wait_until([&] { return http_ok(port_); }, 5000ms))
        << read_file(dir_.file("demo.err"));
  }

  pid_t demo_pid() {
    std::string s = read_file(pidfile_);
    return s.empty() ? 0 : std::stoi(s);
  }

  std::string write_policy(const std::string& yaml) {
    std::string path = dir_.file("policy.yaml");
    write_file(path, yaml);
    return path;
  }

  std::string write_experiment(const std::string& kind, const std::string& duration) {
    std::string path = dir_.file("exp.yaml");
    write_file(path,
               "apiVersion: faultline/v1\n"
               "kind: Experiment\n"
               "metadata:\n"
               "  name: policy-check\n"
               "targets:\n"
               "  demo:\n"
               "    process:\n"
               "      pidfile: " +
                   pidfile_ +
                   "\n"
                   "faults:\n"
                   "  - name: hit-demo\n"
                   "    kind: " +
                   kind +
                   "\n"
                   "    target: demo\n"
                   "    duration: " +
                   duration + "\n");
    return path;
  }

  int run_cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 60000ms) {
    int code = cli_.run(std::move(args), timeout);
    out_ = cli_.out(), err_ = cli_.err();
    return code;
  }

  std::vector<std::string> injector_argv(const std::string& policy) {
    return {kBin + "/faultline-injector",
            "--controller",
            controller_addr_,
            "--node",
            "node-a",
            "--insecure",
            "--policy",
            policy};
  }

  void start_controller_and_injector(const std::string& policy) {
    controller_addr_ = "127.0.0.1:" + std::to_string(free_port());
    controller_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kBin + "/faultline-controller", "--listen", controller_addr_,
                                 "--insecure", "--otlp-listen", "off"},
        "", dir_.file("controller.log"));
    injector_ =
        std::make_unique<ChildProcess>(injector_argv(policy), "", dir_.file("injector.log"));
    ASSERT_TRUE(cli_.wait_connected(controller_addr_, "node-a"))
        << cli_.out() << cli_.err() << read_file(dir_.file("controller.log"))
        << read_file(dir_.file("injector.log"));
  }

  TempDir dir_;
  FaultlineCli cli_{kBin, dir_, {"--insecure"}};
  int port_ = 0;
  std::string pidfile_;
  std::unique_ptr<ChildProcess> demo_, controller_, injector_;
  std::string controller_addr_;
  std::string out_, err_;
};

TEST_F(Policy, AKillTheInjectorsPolicyForbidsFailsTheRunAndTheTargetLives) {
  start_demo();
  pid_t target = demo_pid();
  std::string policy = write_policy(
      "allow:\n"
      "  kinds: [process_pause]\n"
      "  processes:\n"
      "    - name: faultline-demo\n");
  start_controller_and_injector(policy);
  EXPECT_NE(read_file(dir_.file("injector.log")).find("policy=" + policy), std::string::npos)
      << read_file(dir_.file("injector.log"));

  std::string exp = write_experiment("process_kill", "0s");
  // A fault that could not be applied is an infrastructure error, not a failed hypothesis.
  ASSERT_EQ(run_cli({"run", exp, "--controller", controller_addr_}), 3)
      << out_ << err_ << read_file(dir_.file("injector.log"));
  std::string all = out_ + err_;
  EXPECT_NE(all.find("refused by injector policy (" + policy +
                     "): kind process_kill is not allowed (allowed: process_pause)"),
            std::string::npos)
      << all;
  EXPECT_TRUE(demo_->running()) << "the refused kill reached the target";
  EXPECT_EQ(demo_pid(), target);
  EXPECT_TRUE(http_ok(port_));
}

TEST_F(Policy, ThePolicysMaxDurationEndsAFaultTheControllerWantedLonger) {
  start_demo();
  pid_t target = demo_pid();
  std::string policy = write_policy(
      "allow:\n"
      "  kinds: [process_pause]\n"
      "  processes:\n"
      "    - name: faultline-demo\n"
      "  max_duration: 1s\n");
  start_controller_and_injector(policy);
  // The controller plans, and keeps renewing, a 6 s pause; the node allows 1 s.
  auto cli = cli_.start(
      {"run", write_experiment("process_pause", "6s"), "--controller", controller_addr_});
  ASSERT_TRUE(wait_until([&] { return process_state(target) == 'T'; }, 10000ms))
      << read_file(dir_.file("out.txt")) << read_file(dir_.file("injector.log"));
  auto paused_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return process_state(target) != 'T'; }, 4000ms))
      << "still paused; injector log:\n"
      << read_file(dir_.file("injector.log"));
  auto paused_for = std::chrono::steady_clock::now() - paused_at;
  EXPECT_LT(paused_for, 2500ms);
  EXPECT_TRUE(cli->running()) << "the run should still be in its 6 s window";
  EXPECT_NE(read_file(dir_.file("injector.log")).find("reason=\"hard maximum reached\""),
            std::string::npos)
      << read_file(dir_.file("injector.log"));
  EXPECT_NE(cli->wait(30000ms), -1);
  // The run's output says why the pause ended early.
  EXPECT_NE(read_file(dir_.file("out.txt")).find("(this injector's policy ends it within 1s)"),
            std::string::npos)
      << read_file(dir_.file("out.txt"));
  EXPECT_TRUE(http_ok(port_));
}

TEST_F(Policy, ABadPolicyKeepsTheInjectorFromStarting) {
  controller_addr_ = "127.0.0.1:" + std::to_string(free_port());
  std::string policy = write_policy("allow:\n  kinds: [process_pause]\n  interface: [eth0]\n");
  ChildProcess injector(injector_argv(policy), "", dir_.file("injector.log"));
  EXPECT_EQ(injector.wait(10000ms), 3);
  std::string err = read_file(dir_.file("injector.log"));
  EXPECT_NE(err.find("faultline-injector: --policy: " + policy +
                     ":3:3: allow.interface: unknown key, did you mean \"interfaces\"?"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace faultline::testing
