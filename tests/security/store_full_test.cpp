// Issue 19 item 10: when the state directory filled up mid-run, the run stayed "running
// (INJECTING)" forever with its fault held. A run whose journal cannot be stored is now ended
// (its faults reverted), and its final record is written as soon as there is room again.
#include <sys/mount.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "security/security_fixture.h"

namespace faultline::testing {
namespace {

// A small tmpfs for the store, unmounted however the test ends.
class SmallDisk {
 public:
  explicit SmallDisk(std::string path) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=4m") == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  void fill() const {
    std::string cmd = "dd if=/dev/zero of=" + path_ + "/filler bs=64k 2>/dev/null";
    (void)std::system(cmd.c_str());
  }
  void free_space() const { std::filesystem::remove(path_ + "/filler"); }

 private:
  std::string path_;
  bool mounted_ = false;
};

char process_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

TEST(StoreFull, ARunWhoseEventsCannotBeStoredIsEndedAndMarkedWhenThereIsRoomAgain) {
  SecurityFixture fx;
  SmallDisk disk(fx.dir().file("disk"));
  ASSERT_TRUE(disk.mounted()) << "tmpfs mount failed";
  std::string store = fx.dir().file("disk/runs.db");
  fx.start_controller({"--store", store});
  ASSERT_TRUE(fx.start_injector());
  ChildProcess target({"/bin/sleep", "1000"});
  write_file(fx.dir().file("target.pid"), std::to_string(target.pid()) + "\n");
  // The fault waits 2 s: long enough to fill the disk after the run is stored.
  write_file(fx.dir().file("pause.yaml"),
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: disk-full}\n"
             "targets:\n  t: {process: {pidfile: " +
                 fx.dir().file("target.pid") +
                 "}}\n"
                 "faults:\n  - {name: freeze, kind: process_pause, target: t, duration: 60s, "
                 "start: 2s}\n");
  FaultlineCli runner(FAULTLINE_BIN_DIR, fx.dir());
  std::vector<std::string> argv{std::string(FAULTLINE_BIN_DIR) + "/faultline",
                                "run",
                                fx.dir().file("pause.yaml"),
                                "--controller",
                                fx.address(),
                                "--tls-dir",
                                fx.certs(),
                                "--token-file",
                                fx.dir().file("operator.tok")};
  ChildProcess run(argv, fx.dir().file("run.out"), fx.dir().file("run.err"));
  ASSERT_TRUE(wait_until(
      [&] {
        return fx.cli("viewer", {"runs"}) == 0 && fx.out().find("disk-full") != std::string::npos;
      },
      5000ms));
  disk.fill();
  // Without a journal the run ends instead of holding the pause for 60 s.
  EXPECT_EQ(run.wait(20000ms), 2) << read_file(fx.dir().file("run.out"))
                                  << read_file(fx.dir().file("run.err"));
  EXPECT_NE(process_state(target.pid()), 'T');
  EXPECT_NE(read_file(fx.dir().file("run.out")).find("store could not record"), std::string::npos)
      << read_file(fx.dir().file("run.out"));
  // Room again: the final record is written by the controller's retry, not by a restart.
  disk.free_space();
  std::this_thread::sleep_for(1500ms);
  fx.stop_controller();
  fx.start_controller({"--store", store});
  ASSERT_EQ(fx.cli("viewer", {"runs"}), 0) << fx.err();
  EXPECT_NE(fx.out().find("ABORTED"), std::string::npos) << fx.out();
  EXPECT_EQ(fx.out().find("running"), std::string::npos) << fx.out();
  EXPECT_EQ(fx.controller_log().find("interrupted by the last controller exit"), std::string::npos)
      << fx.controller_log();
}

}  // namespace
}  // namespace faultline::testing
