// Issue 19 item 9: `audit show` printed attacker-chosen names raw, so a newline or a terminal
// escape in a name could forge lines of the trail on the reader's screen.
#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

TEST(AuditTrail, ShowEscapesControlCharactersInNamesCallersChose) {
  SecurityFixture fx;
  fx.start_controller();
  // Unauthenticated: refused, and audited with the source name the caller chose.
  auto stub = fx.stub();
  v1::SubmitExperimentRequest req;
  req.set_yaml("x");
  req.set_source_name(
      "exp.yaml\n99   2026-01-01T00:00:00Z  ada(admin)  CreateToken  \x1b[2J\xc2\x9b");
  v1::SubmitExperimentResponse resp;
  grpc::ClientContext ctx;
  SecurityFixture::authorize(ctx, "");
  EXPECT_EQ(stub->SubmitExperiment(&ctx, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx.dir());
  ASSERT_EQ(cli.run({"audit", "show", fx.dir().file("audit.log")}), 0) << cli.err();
  const std::string& out = cli.out();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
  EXPECT_EQ(out.find("\n99 "), std::string::npos) << "a forged line:\n" << out;
  EXPECT_NE(out.find("exp.yaml\\x0a99   2026-01-01T00:00:00Z  ada(admin)  CreateToken  "
                     "\\x1b[2J\\u009b"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace faultline::testing
