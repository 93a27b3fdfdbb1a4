// Issue 19 item 10: token files others could read were used without a word.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

TEST(TokenFile, TheCliAndTheControllerRefuseATokenFileOthersCanRead) {
  SecurityFixture fx;
  fx.start_controller();
  std::string tok = fx.dir().file("viewer.tok");
  ::chmod(tok.c_str(), 0644);
  EXPECT_EQ(fx.cli("viewer", {"runs"}), 3);
  EXPECT_NE(fx.err().find("token file " + tok +
                          " can be read by other users (mode 0644); a "
                          "token others can read proves nothing. Run: "
                          "chmod 600 " +
                          tok),
            std::string::npos)
      << fx.err();
  ::chmod(tok.c_str(), 0600);
  EXPECT_EQ(fx.cli("viewer", {"runs"}), 0) << fx.err();

  std::string tokens = fx.dir().file("tokens.csv");
  ::chmod(tokens.c_str(), 0640);
  ::chown(tokens.c_str(), 0, 65534);  // a group that is not the controller's
  ChildProcess ctl({std::string(FAULTLINE_BIN_DIR) + "/faultline-controller", "--listen",
                    "127.0.0.1:0", "--otlp-listen", "off", "--tls-dir", fx.certs(), "--token-file",
                    tokens, "--store", fx.dir().file("second.db")},
                   "", fx.dir().file("ctl2.log"));
  EXPECT_EQ(ctl.wait(10000ms), 3);
  EXPECT_NE(read_file(fx.dir().file("ctl2.log"))
                .find("token file " + tokens + " can be read by its group (mode 0640)"),
            std::string::npos)
      << read_file(fx.dir().file("ctl2.log"));
}

}  // namespace
}  // namespace faultline::testing
