// Issue 19 item 3: clock_skew wrote its offset, as root and by rename, to the path in the
// target's FAULTLINE_EXEC_CLOCK environment variable, so any local user could have the
// injector overwrite any file. The control file is now found from the `faultline exec`
// wrapper (PID and start time) in a directory only root writes; a target's environment is
// never read.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

std::string skew_yaml(const std::string& marker) {
  return "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: skew}\n"
         "targets:\n  app: {process: {cmdline: \"" +
         marker +
         "\"}}\n"
         "faults:\n  - {name: ahead, kind: clock_skew, target: app, duration: 1s,"
         " params: {offset: +1h, clocks: monotonic}}\n";
}

TEST(ClockFile, AnUnprivilegedProcessCannotPointTheInjectorAtAFile) {
  SecurityFixture fx;
  std::string victim = fx.dir().file("victim");
  write_file(victim, "precious\n");
  std::string marker = "sleep-clock-" + std::to_string(::getpid());
  // What the attack was: a process of user nobody naming the file it wants overwritten.
  ChildProcess attacker({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                         "/usr/bin/env", "FAULTLINE_EXEC_CLOCK=" + victim,
                         "FAULTLINE_EXEC_CLOCKS=all", "/bin/sh", "-c", "sleep 30; : " + marker});
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file("/proc/" + std::to_string(attacker.pid()) + "/cmdline").find(marker) !=
               std::string::npos;
      },
      5000ms));
  write_file(fx.dir().file("skew.yaml"), skew_yaml(marker));
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx.dir());
  EXPECT_EQ(cli.run({"run", fx.dir().file("skew.yaml")}), 3) << cli.out() << cli.err();
  EXPECT_NE((cli.out() + cli.err())
                .find("was started with `faultline exec`, so no clock can be "
                      "shifted"),
            std::string::npos)
      << cli.out() << cli.err();
  EXPECT_EQ(read_file(victim), "precious\n");
}

TEST(ClockFile, ExecRefusesAClockDirectoryOthersCanWrite) {
  SecurityFixture fx;
  std::string dir = fx.dir().file("exec");
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0777);
  FaultlineCli cli(FAULTLINE_BIN_DIR, fx.dir());
  EXPECT_EQ(cli.run({"exec", "--", "/bin/true"}), 3);
  EXPECT_NE(cli.err().find(dir + " must be a directory only root can write"), std::string::npos)
      << cli.err();
}

}  // namespace
}  // namespace faultline::testing
