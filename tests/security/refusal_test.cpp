// Issue 19 items 9 and 10: 300 unauthenticated calls added 300 fsync'd audit entries in 4 s,
// a refused injector added two a second for as long as it retried, and an injector's node
// certificate was accepted as an API client's.
#include <gtest/gtest.h>

#include <algorithm>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

size_t lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ApiClients, ANodesCertificateCannotCallTheApiEvenWithAnAdminToken) {
  SecurityFixture fx;
  fx.start_controller();
  for (std::string cert : {"node-a", "cli"}) {
    auto stub = fx.stub(cert);
    v1::ListRunsRequest req;
    v1::ListRunsResponse resp;
    grpc::ClientContext ctx;
    SecurityFixture::authorize(ctx, kAdminToken);
    grpc::Status st = stub->ListRuns(&ctx, req, &resp);
    if (cert == "cli") {
      EXPECT_TRUE(st.ok()) << st.error_message();
      continue;
    }
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(st.error_message().find("CN=node-a is not an API client's"), std::string::npos)
        << st.error_message();
  }
  EXPECT_NE(fx.audit().find("denied: the certificate CN=node-a is not an API client's"),
            std::string::npos)
      << fx.audit();
}

TEST(AuditFlood, RefusalsFromOnePeerAreCountedNotWrittenOneByOne) {
  SecurityFixture fx;
  fx.start_controller({"--audit-refusal-window", "2s"});
  size_t before = lines(fx.audit());
  auto stub = fx.stub();
  for (int i = 0; i < 300; ++i) {
    v1::ListRunsRequest req;
    v1::ListRunsResponse resp;
    grpc::ClientContext ctx;
    SecurityFixture::authorize(ctx, i % 2 ? "" : "not-a-token");
    ASSERT_EQ(stub->ListRuns(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // The first 20 are written at once, the other 280 are one entry when the window closes.
  EXPECT_EQ(lines(fx.audit()), before + 20) << fx.audit();
  ASSERT_TRUE(wait_until(
      [&] { return fx.audit().find("280 more refused calls") != std::string::npos; }, 5000ms))
      << fx.audit();
  EXPECT_EQ(lines(fx.audit()), before + 21) << fx.audit();
  EXPECT_NE(fx.audit().find("ListRuns x280"), std::string::npos) << fx.audit();
  // A refused call after the window is written in full again, and an allowed one always is.
  EXPECT_EQ(fx.cli("", {"runs"}), 3);
  EXPECT_EQ(fx.cli("viewer", {"runs"}), 0) << fx.err();
  EXPECT_EQ(lines(fx.audit()), before + 23) << fx.audit();
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx.dir());
  EXPECT_EQ(cli.run({"audit", "verify", fx.dir().file("audit.log")}), 0) << cli.out() << cli.err();
}

TEST(AuditFlood, ARefusedInjectorBacksOffAndItsRefusalsAreCounted) {
  SecurityFixture fx;
  fx.start_controller({"--audit-refusal-window", "20s", "--audit-refusals-in-full", "1"});
  // node-b's certificate claiming to be node-a: refused on every attempt.
  fx.spawn_injector("node-a",
                    {"--tls-ca", fx.certs() + "/ca.crt", "--tls-cert", fx.certs() + "/node-b.crt",
                     "--tls-key", fx.certs() + "/node-b.key"});
  std::this_thread::sleep_for(8s);
  // Retrying every 500 ms would be ~15 attempts; doubling from 1 s is 4 (0, 1, 3, 7 s).
  size_t attempts = occurrences(fx.controller_log(), "injector refused");
  EXPECT_GE(attempts, 2u) << fx.controller_log();
  EXPECT_LE(attempts, 5u) << fx.controller_log();
  EXPECT_NE(fx.injector_log("node-a").find("next_try_in=4s"), std::string::npos)
      << fx.injector_log("node-a");
  // The window is still open at shutdown: the count is written then.
  fx.stop_controller();
  std::string audit = fx.audit();
  EXPECT_EQ(occurrences(audit, "\"injector.refused\""), 1u) << audit;
  EXPECT_NE(audit.find("injector.refused x"), std::string::npos) << audit;
}

}  // namespace
}  // namespace faultline::testing
