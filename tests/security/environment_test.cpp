// Issue 19 item 2: `${env:NAME}` in a remotely submitted experiment must never read the
// controller's environment (a viewer's `plan` echoed FAULTLINE_STATE_DIR back in the error).
#include <cstdlib>

#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

const char* kSecret = "s3cr3t-of-the-controller-4711";

std::string experiment_selecting(const std::string& role) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: env-probe\n"
         "targets:\n  web:\n    nodes:\n      selector:\n        role: \"" +
         role +
         "\"\n    process:\n      name: no-such-process-name\n"
         "faults:\n  - name: d\n    kind: process_pause\n    target: web\n    duration: 1s\n";
}

TEST(Environment, AViewersPlanCannotReadTheControllersEnvironment) {
  SecurityFixture fx;
  setenv("FL_CONTROLLER_SECRET", kSecret, 1);
  fx.start_controller();
  unsetenv("FL_CONTROLLER_SECRET");
  auto stub = fx.stub();

  // A hostile client sends the reference and no value: refused at the line, nothing echoed.
  v1::SubmitExperimentRequest req;
  req.set_yaml(experiment_selecting("${env:FL_CONTROLLER_SECRET}"));
  req.set_source_name("attack.yaml");
  req.set_dry_run(true);
  v1::SubmitExperimentResponse resp;
  grpc::Status s;
  {
    grpc::ClientContext ctx;
    SecurityFixture::authorize(ctx, kViewerToken);
    s = stub->SubmitExperiment(&ctx, req, &resp);
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("attack.yaml:9:15: targets.web.nodes.selector.role: environment "
                                   "variable FL_CONTROLLER_SECRET was not sent with the "
                                   "experiment: the controller never reads its own environment"),
            std::string::npos)
      << s.error_message();
  EXPECT_EQ(s.error_message().find(kSecret), std::string::npos) << s.error_message();
  EXPECT_EQ(resp.plan_text().find(kSecret), std::string::npos);
  // The same with a default: the default is used, never the controller's value.
  req.set_yaml(experiment_selecting("${env:FAULTLINE_STATE_DIR:-fallback}"));
  {
    grpc::ClientContext ctx;
    SecurityFixture::authorize(ctx, kViewerToken);
    s = stub->SubmitExperiment(&ctx, req, &resp);
  }
  EXPECT_EQ(s.error_message().find(fx.dir().path()), std::string::npos) << s.error_message();
  EXPECT_EQ(resp.plan_text().find(fx.dir().path()), std::string::npos) << resp.plan_text();
}

TEST(Environment, TheCliSendsItsOwnValuesForTheReferencesItsFileMakes) {
  SecurityFixture fx;
  fx.start_controller();
  ASSERT_TRUE(fx.start_injector("node-a", {"--label", "role=from-cli"})) << fx.err();
  // The value exists only in the CLI's environment; the plan places the target by it.
  setenv("FL_TEST_ROLE", "from-cli", 1);
  write_file(fx.dir().file("e.yaml"), experiment_selecting("${env:FL_TEST_ROLE}"));
  int code = fx.cli("viewer", {"plan", fx.dir().file("e.yaml")});
  unsetenv("FL_TEST_ROLE");
  EXPECT_EQ(code, 0) << fx.out() << fx.err();
  EXPECT_NE(fx.out().find("node-a"), std::string::npos) << fx.out();
  // Without it, the CLI says so at the line, before anything is sent.
  EXPECT_EQ(fx.cli("viewer", {"plan", fx.dir().file("e.yaml")}), 3);
  EXPECT_NE(fx.err().find("e.yaml:9:15: targets.web.nodes.selector.role: environment variable "
                          "FL_TEST_ROLE is not set"),
            std::string::npos)
      << fx.err();
}

}  // namespace
}  // namespace faultline::testing
