// Issue 19 item 1: command probes and rollbacks of a submitted experiment ran as root on the
// controller. The controller policy can place a program on a named injector node instead
// (commands[].node); that node's injector runs it only if its own policy lists the path
// (allow.commands), with no shell and a clean environment.
#include <gtest/gtest.h>

#include <filesystem>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

class DelegatedCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string policy = fx_.dir().file("controller-policy.yaml");
    write_file(policy,
               "apiVersion: faultline/v1\nkind: ControllerPolicy\ncommands:\n"
               "  - {path: /usr/bin/env, node: node-a}\n"
               "  - {path: /usr/bin/touch, node: node-a}\n");
    fx_.start_controller({"--policy", policy});
  }
  void start_injector(const std::string& allow) {
    std::string policy = fx_.dir().file("injector-policy.yaml");
    write_file(policy, "allow:\n  kinds: [process_pause]\n" + allow);
    ASSERT_TRUE(fx_.start_injector("node-a", {"--policy", policy}));
  }
  int run(const std::string& steady_state) {
    write_file(fx_.dir().file("exp.yaml"),
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: delegated}\n"
               "targets:\n  web: {process: {name: no-such-process-name}}\n"
               "faults:\n  - {name: d, kind: process_pause, target: web, duration: 1s}\n"
               "steady_state:\n" +
                   steady_state);
    return fx_.cli("operator", {"run", fx_.dir().file("exp.yaml")});
  }
  SecurityFixture fx_;
};

TEST_F(DelegatedCommands, APlacedProgramRunsOnItsNodeWithACleanEnvironment) {
  start_injector("  commands: [/usr/bin/env]\n");
  // Exactly two variables: nothing of the injector's environment (it has
  // FAULTLINE_STATE_DIR, for one) reaches the program.
  run("  - name: env\n    command:\n      run: [/usr/bin/env]\n"
      "      output_regex: \"^(PATH|LANG)=[^\\n]*\\n(PATH|LANG)=[^\\n]*\\n$\"\n");
  EXPECT_NE(fx_.out().find("exit code 0 on node node-a"), std::string::npos)
      << fx_.out() << fx_.err();
  EXPECT_EQ(fx_.out().find("does not match"), std::string::npos) << fx_.out();
  EXPECT_NE(fx_.injector_log("node-a").find("command run for the controller program=/usr/bin/env"),
            std::string::npos)
      << fx_.injector_log("node-a");
}

TEST_F(DelegatedCommands, TheNodesPolicyHasTheLastWord) {
  start_injector("  commands: [/usr/bin/env]\n");
  std::string marker = fx_.dir().file("owned");
  run("  - name: touch\n    command: {run: [/usr/bin/touch, " + marker + "]}\n");
  EXPECT_NE(fx_.out().find("refused by injector policy"), std::string::npos) << fx_.out();
  EXPECT_NE(fx_.out().find("\"/usr/bin/touch\" is not in allow.commands (/usr/bin/env)"),
            std::string::npos)
      << fx_.out();
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(DelegatedCommands, AnInjectorWithoutAPolicyRunsNoCommands) {
  ASSERT_TRUE(fx_.start_injector("node-a"));
  std::string marker = fx_.dir().file("owned");
  run("  - name: touch\n    command: {run: [/usr/bin/touch, " + marker + "]}\n");
  EXPECT_NE(fx_.out().find("this injector runs no commands: it has no policy"), std::string::npos)
      << fx_.out();
  EXPECT_FALSE(std::filesystem::exists(marker));
}

}  // namespace
}  // namespace faultline::testing
