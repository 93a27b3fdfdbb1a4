// Issue 19 item 1: an operator token ran commands as root on the controller (command probes
// and rollbacks of a submitted experiment) and reached any address from it (SSRF). The
// controller policy refuses them at submit time, at their line, names the rule, and audits it.
#include <filesystem>

#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

std::string experiment(const std::string& extra) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: attack\n"
         "targets:\n  web:\n    process:\n      name: no-such-process-name\n"
         "faults:\n  - name: d\n    kind: process_pause\n    target: web\n    duration: 1s\n" +
         extra;
}

class ControllerPolicy : public ::testing::Test {
 protected:
  int submit(const std::string& role, const std::string& yaml, bool plan = false) {
    write_file(fx_.dir().file("attack.yaml"), yaml);
    return fx_.cli(role, {plan ? "plan" : "run", fx_.dir().file("attack.yaml")});
  }
  SecurityFixture fx_;
};

TEST_F(ControllerPolicy, CommandsFromSubmittedExperimentsAreRefusedByDefaultAndNothingRuns) {
  fx_.start_controller();
  std::string marker = fx_.dir().file("owned");
  std::string yaml = experiment(
      "steady_state:\n  - name: own\n    command:\n      run: [/bin/sh, -c, \"id > " + marker +
      "\"]\nrollbacks:\n  - name: own-too\n    command: {run: [touch, " + marker + "]}\n");
  EXPECT_EQ(submit("operator", yaml), 3);
  std::string file = fx_.dir().file("attack.yaml");
  EXPECT_NE(fx_.err().find(file + ":15:5: steady_state[0].command.run: submitted experiments may "
                                  "not run \"/bin/sh\" on the controller: no commands[].path of "
                                  "the controller policy (built-in defaults) is that program"),
            std::string::npos)
      << fx_.err();
  EXPECT_NE(fx_.err().find(file + ":19:5: rollbacks[0].command.run: submitted experiments may "
                                  "not run \"touch\" on the controller"),
            std::string::npos)
      << fx_.err();
  // A viewer's plan is refused the same way: nothing about the experiment runs either.
  EXPECT_EQ(submit("viewer", yaml, true), 3);
  EXPECT_NE(fx_.err().find("may not run \"/bin/sh\""), std::string::npos) << fx_.err();
  EXPECT_FALSE(std::filesystem::exists(marker));
  std::string audit = fx_.audit();
  EXPECT_NE(audit.find("\"action\":\"SubmitExperiment\""), std::string::npos);
  EXPECT_NE(audit.find("denied: " + file + ":15:5: steady_state[0].command.run"), std::string::npos)
      << audit;
  EXPECT_NE(audit.find("refused by the controller policy (built-in defaults)"), std::string::npos)
      << audit;
}

TEST_F(ControllerPolicy, AnAllowedProgramRunsAndOthersAreRefusedNamingThePolicy) {
  std::string policy = fx_.dir().file("controller-policy.yaml");
  write_file(policy,
             "apiVersion: faultline/v1\nkind: ControllerPolicy\ncommands:\n"
             "  - path: /bin/true\n");
  fx_.start_controller({"--policy", policy});
  ASSERT_TRUE(fx_.start_injector());
  EXPECT_EQ(submit("viewer",
                   experiment("steady_state:\n  - name: ok\n    command: {run: "
                              "[/bin/true]}\n"),
                   true),
            0)
      << fx_.err();
  EXPECT_EQ(submit("viewer",
                   experiment("steady_state:\n  - name: no\n    command: {run: "
                              "[/bin/false]}\n"),
                   true),
            3);
  EXPECT_NE(fx_.err().find("may not run \"/bin/false\" on the controller: no commands[].path of "
                           "the controller policy " +
                           policy + " is that program"),
            std::string::npos)
      << fx_.err();
}

TEST_F(ControllerPolicy, ProbesCannotReachMetadataOrLinkLocalAddressesOrReadFiles) {
  fx_.start_controller();
  std::string yaml = experiment(
      "steady_state:\n"
      "  - name: imds\n    http: {url: \"http://169.254.169.254/latest/meta-data/\"}\n"
      "  - name: gce\n    prometheus: {url: \"http://metadata.google.internal\", query: up, "
      "min: 0}\n"
      "  - name: v6\n    tcp: {address: \"[fe80::1]:80\"}\n"
      "  - name: mapped\n    http: {url: \"http://[::ffff:169.254.169.254]/\"}\n"
      "  - name: shadow\n    http: {url: \"http://127.0.0.1:1/\", ca_file: /etc/shadow}\n");
  EXPECT_EQ(submit("viewer", yaml, true), 3);
  const std::string& err = fx_.err();
  for (const char* want :
       {":15:5: steady_state[0].http.url: 169.254.169.254 is link-local or a cloud metadata "
        "address (169.254.0.0/16), never reachable from a submitted experiment",
        ":17:5: steady_state[1].prometheus.url: metadata.google.internal is a cloud metadata "
        "service",
        ":19:5: steady_state[2].tcp.address: fe80::1 is link-local",
        ":21:5: steady_state[3].http.url: ::ffff:169.254.169.254 is link-local",
        ":23:5: steady_state[4].http.ca_file: submitted experiments may not make the controller "
        "read \"/etc/shadow\""})
    EXPECT_NE(err.find(want), std::string::npos) << want << "\n" << err;
}

TEST_F(ControllerPolicy, AnAllowListNarrowsProbesToItsHosts) {
  std::string policy = fx_.dir().file("controller-policy.yaml");
  write_file(policy,
             "apiVersion: faultline/v1\nkind: ControllerPolicy\nhosts:\n"
             "  allow: [127.0.0.1/32, \"*.example.internal\"]\n  deny: [127.0.0.1/32]\n");
  fx_.start_controller({"--policy", policy});
  // Denied wins over allowed; a host outside the list is refused with the policy named.
  EXPECT_EQ(submit("viewer",
                   experiment("steady_state:\n  - name: a\n    tcp: {address: \"127.0.0.1:1\"}\n"
                              "  - name: b\n    tcp: {address: \"127.0.0.2:1\"}\n"),
                   true),
            3);
  EXPECT_NE(fx_.err().find(":15:5: steady_state[0].tcp.address: 127.0.0.1 is denied by the "
                           "controller policy " +
                           policy + " (hosts.deny: 127.0.0.1/32)"),
            std::string::npos)
      << fx_.err();
  EXPECT_NE(fx_.err().find(":17:5: steady_state[1].tcp.address: 127.0.0.2 is not allowed by the "
                           "controller policy " +
                           policy + " (no hosts.allow rule matches it)"),
            std::string::npos)
      << fx_.err();
}

TEST_F(ControllerPolicy, ABadPolicyStopsTheControllerWithItsLine) {
  std::string policy = fx_.dir().file("controller-policy.yaml");
  write_file(policy,
             "apiVersion: faultline/v1\nkind: ControllerPolicy\nhosts:\n  allow: [10.0.0.0/33]\n"
             "comands: []\n");
  std::vector<std::string> argv{std::string(FAULTLINE_BIN_DIR) + "/faultline-controller",
                                "--listen",
                                "127.0.0.1:0",
                                "--insecure",
                                "--otlp-listen",
                                "off",
                                "--policy",
                                policy};
  ChildProcess ctl(argv, "", fx_.dir().file("bad.log"));
  EXPECT_EQ(ctl.wait(10000ms), 3);
  std::string log = read_file(fx_.dir().file("bad.log"));
  EXPECT_NE(log.find(policy + ":5:1: comands: unknown key"), std::string::npos) << log;
}

TEST_F(ControllerPolicy, SchedulesAreCheckedWhenAdded) {
  fx_.start_controller();
  write_file(fx_.dir().file("attack.yaml"),
             experiment("rollbacks:\n  - name: own\n    command: {run: [/bin/sh]}\n"));
  EXPECT_EQ(fx_.cli("operator", {"schedule", "add", "nightly", fx_.dir().file("attack.yaml"),
                                 "--cron", "@daily"}),
            3);
  EXPECT_NE(fx_.err().find("rollbacks[0].command.run: submitted experiments may not run "
                           "\"/bin/sh\" on the controller"),
            std::string::npos)
      << fx_.err();
}

}  // namespace
}  // namespace faultline::testing
