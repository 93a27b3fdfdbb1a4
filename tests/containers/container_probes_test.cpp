// http and tcp probes addressed to a target's pods (`target: web, port: 8080`): run through the
// CLI against real pods, each probed at its own address, the probe passing only when every pod
// answers.
#include "container_fixture.h"
#include "support/faultline_cli.h"

namespace faultline::testing {
namespace {

TEST_F(ContainerTargets, ProbesReachEveryPodOfATargetAtItsOwnAddress) {
  std::string app = unique("probe");
  TestPod a = pod(app + "-a", {{"app", app}});
  TestPod b = pod(app + "-b", {{"app", app}});
  ASSERT_FALSE(a.ip.empty());
  ASSERT_FALSE(b.ip.empty());
  TempDir dir;
  CliEnvironment env(dir.path(), rig_.cri_socket, "");
  auto experiment = [&](int port) {
    std::string path = dir.file("probe-" + std::to_string(port) + ".yaml");
    write_file(path,
               "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: pod-probes}\n"
               "targets:\n  web:\n    pod: {namespace: faultline-test, labels: {app: " +
                   app +
                   "}}\n"
                   "steady_state:\n"
                   "  - {name: every-web-pod, http: {target: web, port: " +
                   std::to_string(port) +
                   ", path: /}}\n"
                   "  - {name: every-web-port, tcp: {target: web, port: " +
                   std::to_string(port) +
                   "}}\n"
                   "faults:\n  - {name: slow, kind: network_delay, target: web, duration: 1s, "
                   "params: {delay: 20ms}}\n");
    return path;
  };
  FaultlineCli cli(FAULTLINE_BIN_DIR, dir);
  ASSERT_EQ(cli.run({"run", experiment(8080)}), 0) << cli.out() << cli.err();
  EXPECT_NE(cli.out().find("2/2 pod(s) ok (HTTP 200"), std::string::npos) << cli.out();
  EXPECT_NE(cli.out().find("2/2 pod(s) ok (connected to "), std::string::npos) << cli.out();

  // Nothing listens on port 9 in the pods: the steady state fails, naming each pod.
  EXPECT_NE(cli.run({"run", experiment(9)}), 0) << cli.out();
  std::string all = cli.out() + cli.err();
  EXPECT_NE(all.find("0/2 pod(s) ok"), std::string::npos) << all;
  EXPECT_NE(all.find("faultline-test/" + app + "-a (" + a.ip + ":9)"), std::string::npos) << all;
  EXPECT_NE(all.find("faultline-test/" + app + "-b (" + b.ip + ":9)"), std::string::npos) << all;
}

}  // namespace
}  // namespace faultline::testing
