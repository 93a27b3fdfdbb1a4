// The fault engine against real processes: apply, revert, lease expiry, shutdown.
#include "injector/fault_engine.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

pb::FaultSpec pause_pid(pid_t pid) {
  pb::FaultSpec spec;
  spec.mutable_process_pause()->mutable_selector()->set_pid(pid);
  return spec;
}

bool stopped(pid_t pid) {
  return process_state(pid) == 'T';
}

TEST(FaultEngine, PauseAndRevertResumes) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  auto applied = engine.apply("f1", pause_pid(sleeper.pid()), std::chrono::seconds(30));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(wait_until([&] { return stopped(sleeper.pid()); }, 2000ms));
  ASSERT_EQ(applied->processes_size(), 1);
  EXPECT_EQ(applied->processes(0).pid(), sleeper.pid());

  ASSERT_TRUE(engine.revert("f1").ok());
  EXPECT_TRUE(wait_until([&] { return !stopped(sleeper.pid()); }, 2000ms));
  // Idempotent: a second revert of the same id succeeds and does nothing.
  EXPECT_TRUE(engine.revert("f1").ok());
  EXPECT_TRUE(engine.active_fault_ids().empty());
}

TEST(FaultEngine, SameFaultIdTwiceIsRefused) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("f1", pause_pid(sleeper.pid()), std::chrono::seconds(30)).ok());
  auto again = engine.apply("f1", pause_pid(sleeper.pid()), std::chrono::seconds(30));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already applied"), std::string::npos);
}

TEST(FaultEngine, ExpiredLeaseRevertsByItself) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("f1", pause_pid(sleeper.pid()), std::chrono::milliseconds(300)).ok());
  EXPECT_TRUE(wait_until([&] { return stopped(sleeper.pid()); }, 2000ms));
  EXPECT_TRUE(wait_until([&] { return !stopped(sleeper.pid()); }, 3000ms));
  EXPECT_TRUE(engine.active_fault_ids().empty());
}

TEST(FaultEngine, RenewedLeaseKeepsTheFault) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("f1", pause_pid(sleeper.pid()), std::chrono::milliseconds(400)).ok());
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(engine.renew("f1", std::chrono::milliseconds(400)).ok());
  }
  EXPECT_TRUE(stopped(sleeper.pid()));
  ASSERT_TRUE(engine.revert("f1").ok());
}

TEST(FaultEngine, DestructionRevertsEverything) {
  ChildProcess a({"/bin/sleep", "60"});
  ChildProcess b({"/bin/sleep", "60"});
  {
    FaultEngine engine(default_backends());
    ASSERT_TRUE(engine.apply("a", pause_pid(a.pid()), std::chrono::seconds(30)).ok());
    ASSERT_TRUE(engine.apply("b", pause_pid(b.pid()), std::chrono::seconds(30)).ok());
    EXPECT_TRUE(wait_until([&] { return stopped(a.pid()) && stopped(b.pid()); }, 2000ms));
  }
  EXPECT_TRUE(wait_until([&] { return !stopped(a.pid()) && !stopped(b.pid()); }, 2000ms));
}

TEST(FaultEngine, KillDeliversTheSignal) {
  ChildProcess sleeper({"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  pb::FaultSpec spec;
  spec.mutable_process_kill()->mutable_selector()->set_pid(sleeper.pid());
  spec.mutable_process_kill()->set_signal(SIGTERM);
  auto applied = engine.apply("k", spec, std::chrono::seconds(30));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(sleeper.wait(2000ms), 128 + SIGTERM);
  EXPECT_NE(applied->summary().find("SIGTERM sent to pid"), std::string::npos);
  // Reverting a kill has nothing to undo and succeeds.
  EXPECT_TRUE(engine.revert("k").ok());
}

TEST(FaultEngine, RevertOfAPausedProcessThatDiedSucceeds) {
  auto sleeper = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "60"});
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("f1", pause_pid(sleeper->pid()), std::chrono::seconds(30)).ok());
  sleeper.reset();  // SIGKILL and reap: the target is gone
  EXPECT_TRUE(engine.revert("f1").ok());
}

TEST(FaultEngine, CrashLoopKillsTheRestartedTargetUntilReverted) {
  TempDir dir;
  std::string pidfile = dir.file("pid"), log = dir.file("log");
  // A tiny supervisor: restarts its sleeper whenever it dies, logging each new PID.
  ChildProcess supervisor({"/bin/sh", "-c",
                           "while true; do sleep 60 & echo $! > " + pidfile + "; echo $! >> " +
                               log + "; wait $!; done"});
  ASSERT_TRUE(wait_until([&] { return !read_file(pidfile).empty(); }, 2000ms));
  FaultEngine engine(default_backends());
  pb::FaultSpec spec;
  auto* k = spec.mutable_process_kill();
  k->mutable_selector()->set_pidfile(pidfile);
  k->set_signal(SIGKILL);
  k->set_interval_ms(100);
  ASSERT_TRUE(engine.apply("loop", spec, 30s).ok());
  auto starts = [&] {
    std::string text = read_file(log);
    return std::count(text.begin(), text.end(), '\n');
  };
  EXPECT_TRUE(wait_until([&] { return starts() >= 6; }, 3000ms)) << starts();
  ASSERT_TRUE(engine.revert("loop").ok());
  std::this_thread::sleep_for(300ms);
  auto settled = starts();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(starts(), settled) << "the loop went on after revert";
}

TEST(FaultEngine, AnEmptySelectionFailsUnlessToldToSkip) {
  FaultEngine engine(default_backends());
  pb::FaultSpec spec;
  spec.mutable_process_kill()->mutable_selector()->set_name("no-such-" + std::to_string(getpid()));
  spec.mutable_process_kill()->set_signal(SIGTERM);
  auto failed = engine.apply("k1", spec, 30s);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("no process matches"), std::string::npos);
  spec.mutable_process_kill()->mutable_selector()->set_skip_if_empty(true);
  auto skipped = engine.apply("k2", spec, 30s);
  ASSERT_TRUE(skipped.ok()) << skipped.error().message;
  EXPECT_NE(skipped->summary().find("skipped (on_empty: skip)"), std::string::npos);
  EXPECT_EQ(skipped->processes_size(), 0);
}

}  // namespace
}  // namespace faultline::injector
