// process_pause with the cgroup freezer, on both cgroup v1 (freezer controller) and v2
// (cgroup.freeze), against a real process that keeps writing to a file.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "injector/fault_engine.h"
#include "injector/process/cgroup_freezer.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;
namespace fs = std::filesystem;

// A cgroup made for one test under a hierarchy's mount point; thawed, emptied and removed
// at the end whatever happened.
class TestCgroup {
 public:
  TestCgroup(const std::string& mount, const std::string& name) : dir_(mount + "/" + name) {
    ok_ = fs::is_directory(mount) && ::mkdir(dir_.c_str(), 0755) == 0;
  }
  ~TestCgroup() {
    if (!ok_) return;
    std::ofstream(dir_ +
                  (fs::exists(dir_ + "/cgroup.freeze") ? "/cgroup.freeze" : "/freezer.state"))
        << (fs::exists(dir_ + "/cgroup.freeze") ? "0" : "THAWED");
    std::ifstream procs(dir_ + "/cgroup.procs");
    for (pid_t p; procs >> p;) ::kill(p, SIGKILL);
    wait_until([&] { return ::rmdir(dir_.c_str()) == 0; }, 3000ms);
  }
  bool ok() const { return ok_; }
  void add(pid_t pid) { std::ofstream(dir_ + "/cgroup.procs") << pid; }

 private:
  std::string dir_;
  bool ok_ = false;
};

std::uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

bool growing(const std::string& path) {
  auto before = size_of(path);
  std::this_thread::sleep_for(300ms);
  return size_of(path) > before;
}

void freeze_and_thaw(const std::string& mount, CgroupVersion want) {
  std::string name = "faultline-test-" + std::to_string(getpid());
  TestCgroup cg(mount, name);
  if (!cg.ok()) GTEST_SKIP() << "no cgroup hierarchy at " << mount;
  TempDir dir;
  std::string out = dir.file("ticks");
  ChildProcess writer({"/bin/sh", "-c", "while true; do echo x >> " + out + "; sleep 0.02; done"});
  cg.add(writer.pid());
  ASSERT_TRUE(wait_until([&] { return size_of(out) > 0; }, 2000ms));

  auto found = find_freezable("/" + name);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->version, want);

  FaultEngine engine(default_backends());
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_cgroup("/" + name);
  spec.mutable_process_pause()->set_method("freezer");
  auto applied = engine.apply("fz", spec, 30s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(applied->summary().find("froze cgroup /" + name), std::string::npos);
  EXPECT_TRUE(is_frozen(*found));
  EXPECT_FALSE(growing(out)) << "the frozen writer kept writing";

  ASSERT_TRUE(engine.revert("fz").ok());
  EXPECT_FALSE(is_frozen(*found));
  EXPECT_TRUE(growing(out)) << "the writer did not resume";
}

TEST(CgroupFreezer, V1FreezerFreezesAndThaws) {
  // On this hybrid host the unified hierarchy also has the path only if made there, so a
  // cgroup made under the v1 freezer mount is frozen through v1.
  freeze_and_thaw("/sys/fs/cgroup/freezer", CgroupVersion::kV1);
}

TEST(CgroupFreezer, V2CgroupFreezeFreezesAndThaws) {
  std::string mount =
      fs::exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  freeze_and_thaw(mount, CgroupVersion::kV2);
}

TEST(CgroupFreezer, ACgroupHoldingTheInjectorIsRefused) {
  std::string name = "faultline-guard-" + std::to_string(getpid());
  TestCgroup cg("/sys/fs/cgroup/freezer", name);
  if (!cg.ok()) GTEST_SKIP() << "no v1 freezer";
  ChildProcess sleeper({"/bin/sleep", "30"});
  cg.add(sleeper.pid());
  cg.add(getpid());  // the "injector" itself
  FaultEngine engine(default_backends());
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_cgroup("/" + name);
  spec.mutable_process_pause()->set_method("freezer");
  auto applied = engine.apply("fz", spec, 30s);
  // Move ourselves back before anything else can go wrong.
  std::ofstream("/sys/fs/cgroup/freezer/cgroup.procs") << getpid();
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("protected process"), std::string::npos)
      << applied.error().message;
}

}  // namespace
}  // namespace faultline::injector
