// The real `faultline audit verify|show` binary against logs written by AuditLog.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/audit_log.h"
#include "support/child_process.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;

class AuditCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::open(log_);
    ASSERT_TRUE(log.ok()) << log.error().message;
    for (int i = 1; i <= 4; ++i)
      ASSERT_TRUE((*log)
                      ->append({"alice", "operator", "AbortRun", "run-" + std::to_string(i),
                                "ipv4:127.0.0.1:5555", "ok", ""})
                      .ok());
  }

  int run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), std::string(FAULTLINE_BIN_DIR) + "/faultline");
    ChildProcess cli(args, dir_.file("out.txt"), dir_.file("err.txt"));
    int code = cli.wait(20000ms);
    out_ = read_file(dir_.file("out.txt"));
    err_ = read_file(dir_.file("err.txt"));
    return code;
  }

  TempDir dir_;
  std::string log_ = dir_.file("audit.log");
  std::string out_, err_;
};

TEST_F(AuditCli, VerifyExitsZeroOnAnIntactLog) {
  EXPECT_EQ(run_cli({"audit", "verify", log_}), 0) << out_ << err_;
  EXPECT_EQ(out_, "audit log OK: 4 entries, chain intact (" + log_ + ")\n");
}

TEST_F(AuditCli, VerifyUsesTheStateDirByDefault) {
  setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
  int code = run_cli({"audit", "verify"});
  unsetenv("FAULTLINE_STATE_DIR");
  EXPECT_EQ(code, 0) << out_ << err_;
}

TEST_F(AuditCli, VerifyExitsOneNamingTheEditedEntry) {
  std::string text = read_file(log_);
  auto pos = text.find("run-3");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 5, "run-X");
  write_file(log_, text);
  EXPECT_EQ(run_cli({"audit", "verify", log_}), 1) << out_ << err_;
  EXPECT_NE(out_.find("audit log " + log_ + ": TAMPERED: entry 3 (line 3): "), std::string::npos)
      << out_;
}

TEST_F(AuditCli, VerifyExitsThreeOnAMissingFile) {
  EXPECT_EQ(run_cli({"audit", "verify", dir_.file("none.log")}), 3) << out_ << err_;
  EXPECT_NE(err_.find("cannot read audit log"), std::string::npos) << err_;
}

TEST_F(AuditCli, ShowPrintsTheLastEntriesAligned) {
  EXPECT_EQ(run_cli({"audit", "show", log_, "--tail", "2"}), 0) << out_ << err_;
  EXPECT_EQ(out_.find("run-2"), std::string::npos) << out_;
  auto header = out_.find("SEQ");
  auto row3 = out_.find("\n3 ");
  ASSERT_NE(header, std::string::npos);
  ASSERT_NE(row3, std::string::npos) << out_;
  EXPECT_NE(out_.find("alice(operator)"), std::string::npos) << out_;
  // The ACTION column starts at the same offset in the header and the rows.
  auto line_start = out_.rfind('\n', out_.find("AbortRun")) + 1;
  EXPECT_EQ(out_.find("ACTION") - header, out_.find("AbortRun") - line_start) << out_;
}

}  // namespace
}  // namespace faultline::testing
